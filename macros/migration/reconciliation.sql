{#-
    The content hash of one row for the reconciliation: md5 of a jsonb array of the given column expressions,
    so several columns (an event's details, address, agent and time) hash as one value, NULLs included.
    The source side (int_reconciliation_source_rows) and the target side (reconciliation) call it alike.
-#}
{% macro reconciliation_row_hash(expressions) -%}
    md5(jsonb_build_array({{ expressions | join(', ') }})::text)
{%- endmacro %}


{#-
    Fails (one row per offending client and entity) when the reconciliation says `mismatch`, and logs each one
    as a readable line (client, entity, figures, example rows), so the build output says where.
-#}
{% test reconciliation_balanced(model) %}
    {%- if execute -%}
        {%- set relation = adapter.get_relation(
            database=model.database, schema=model.schema, identifier=model.identifier
        ) -%}
        {%- if relation is not none -%}
            {%- set mismatches = run_query(
                "select coalesce(client_id::text, '(no client)') || ' ' || coalesce(backstage_schema, '')"
                ~ " || ' ' || entity || ': source ' || source_rows"
                ~ " || case when source_rows = migrated_rows + held_rows then ' = ' else ' <> ' end"
                ~ " || 'migrated ' || migrated_rows"
                ~ " || ' + held ' || held_rows"
                ~ " || case when missing_rows > 0 then ', neither migrated nor held ' || missing_rows else '' end"
                ~ " || case when changed_rows > 0 then ', content changed ' || changed_rows else '' end"
                ~ " || case when source_content_hash is distinct from target_content_hash"
                ~ " then ', content hash ' || coalesce(left(source_content_hash, 8), '-') || ' <> '"
                ~ " || coalesce(left(target_content_hash, 8), '-') else '' end"
                ~ " || coalesce(' (e.g. ' || mismatch_examples || ')', '')"
                ~ " from " ~ relation ~ " where status = 'mismatch' order by client_id nulls first, entity"
            ) -%}
            {%- for row in mismatches.rows -%}
                {%- do log("reconciliation mismatch: " ~ row[0], info=true) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif %}
    select
        client_id,
        backstage_schema,
        entity,
        source_rows,
        migrated_rows,
        held_rows,
        changed_rows,
        source_content_hash,
        target_content_hash,
        mismatch_examples
    from {{ model }}
    where status = 'mismatch'
{% endtest %}
