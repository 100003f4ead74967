{#-
    Every row of an entity's decision model (int_source_rows_<entity>) speaks the vocabulary: it is of that entity,
    lands in a Cogito table of the vocabulary, and each of its reasons is one the vocabulary lists for the entity.
    Fails with one row per offending (source row, reason).
-#}
{% test source_rows_follow_the_vocabulary(model, entity) %}
    {%- set reasons = [] -%}
    {%- for reason, by_entity in var('quarantine_reasons').items() if entity in by_entity -%}
        {%- do reasons.append(reason) -%}
    {%- endfor -%}
    {%- set tables = [] -%}
    {%- for spec in var('migration_entities').values() -%}
        {%- do tables.append(spec.cogito_table) -%}
    {%- endfor %}
    select
        decided.entity,
        decided.source_schema,
        decided.source_table,
        decided.source_id,
        decided.cogito_table,
        reason.key as reason
    from {{ model }} as decided
    left join lateral jsonb_object_keys(decided.reasons) as reason (key) on true
    where
        decided.entity <> '{{ entity }}'
        or decided.cogito_table not in ('{{ tables | join("', '") }}')
        {%- if reasons %}
        or reason.key not in ('{{ reasons | join("', '") }}')
        {%- else %}
        or reason.key is not null
        {%- endif %}
{% endtest %}
