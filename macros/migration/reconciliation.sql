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
                "select mismatch_summary from " ~ relation
                ~ " where status = 'mismatch' order by client_id nulls first, entity"
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
        mismatch_summary
    from {{ model }}
    where status = 'mismatch'
{% endtest %}

{#-
    The reconciliation's pre-hook: a shared advisory lock for its transaction. Nothing else takes this lock, so
    it costs nothing; a session holding it exclusively holds the reconciliation back at a known point, after every
    mart merged and before it reads (tests/python/test_moving_source.py writes Backstage there). The wait is bounded
    by the run's lock_timeout like any other.
-#}
{% macro reconciliation_hold_point() -%}
    {#- the key: a 64-bit hash of the hold point's name, apart from the run lock's -#}
    select pg_advisory_xact_lock_shared(hashtextextended('cogito-migrate: reconciliation hold point', 0))
{%- endmacro %}
