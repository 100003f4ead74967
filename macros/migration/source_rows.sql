{#-
    Macros that read the vocabulary (`vars` in dbt_project.yml: `migration_entities`, `quarantine_reasons`), so the
    decision models, the id map and the reconciliation say each rule once.
-#}

{#-
    The content hash of one row, over the entity's `content_columns` (md5 of a jsonb array, NULLs included), read
    from `relation_alias`; NULL for entities whose content is not hashed. The source side (int_source_rows_*)
    and the target side (reconciliation) call it alike, on columns named like the target's.
-#}
{% macro content_hash(entity, relation_alias) -%}
    {%- set columns = var('migration_entities')[entity].get('content_columns', []) -%}
    {%- if columns -%}
        md5(jsonb_build_array(
            {%- for column in columns -%}
                {{ relation_alias }}.{{ adapter.quote(column) }}{{ ', ' if not loop.last }}
            {%- endfor -%}
        )::text)
    {%- else -%}
        cast(null as text)
    {%- endif -%}
{%- endmacro %}


{#-
    The two decided columns of a source row, `disposition` and `is_written`, from its reasons and the vocabulary:
    the end of every int_source_rows_<entity> model (`select *, {{ source_row_decision('turn') }} from reasoned`).
-#}
{% macro source_row_decision(entity, reasons='reasons', already_landed='false') -%}
    {{ source_row_disposition(entity, reasons, already_landed) }} as disposition,
    {{ source_row_is_written(entity, reasons) }} as is_written
{%- endmacro %}


{#-
    A source row's disposition from its reasons (a jsonb object reason -> evidence) and the vocabulary: `held` when
    one of its reasons holds rows of this entity back, `migrated_with_fallback` when it has any other reason,
    else `migrated`. A reason the vocabulary gives both dispositions holds the row back until it first lands
    (`already_landed`, an SQL condition).
-#}
{% macro source_row_disposition(entity, reasons, already_landed='false') -%}
    {%- set held = [] -%}
    {%- set held_until_landed = [] -%}
    {%- for reason, by_entity in var('quarantine_reasons').items() if entity in by_entity -%}
        {%- if by_entity[entity] == 'held' -%}
            {%- do held.append(reason) -%}
        {%- elif by_entity[entity] is not string -%}
            {%- do held_until_landed.append(reason) -%}
        {%- endif -%}
    {%- endfor -%}
    case
        {%- if held %}
        when {{ reasons }} ?| array['{{ held | join("', '") }}'] then 'held'
        {%- endif %}
        {%- if held_until_landed %}
        when {{ reasons }} ?| array['{{ held_until_landed | join("', '") }}'] and not ({{ already_landed }})
            then 'held'
        {%- endif %}
        when {{ reasons }} <> cast('{}' as jsonb) then 'migrated_with_fallback'
        else 'migrated'
    end
{%- endmacro %}


{#- The Cogito table rows of the entity in `entity_column` land in (per the vocabulary), as an SQL expression. -#}
{% macro entity_cogito_table(entity_column) -%}
    case {{ entity_column }}
        {%- for entity, spec in var('migration_entities').items() %}
        when '{{ entity }}' then '{{ spec.cogito_table }}'
        {%- endfor %}
    end
{%- endmacro %}


{#- Whether the mart writes the row's current content this run: not when a reason holds it back or keeps it as it
    was last migrated (a reason the vocabulary gives both dispositions, e.g. `email_taken`). -#}
{% macro source_row_is_written(entity, reasons) -%}
    {%- set blocking = [] -%}
    {%- for reason, by_entity in var('quarantine_reasons').items() if entity in by_entity -%}
        {%- if by_entity[entity] is not string or by_entity[entity] == 'held' -%}
            {%- do blocking.append(reason) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if blocking -%}
        not ({{ reasons }} ?| array['{{ blocking | join("', '") }}'])
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- The Cogito table of an entity (per the vocabulary), as an SQL literal. -#}
{% macro cogito_table_of(entity) -%}
    '{{ var('migration_entities')[entity].cogito_table }}'
{%- endmacro %}


{#- The uuids of an entity's rows its mart writes this run (the decision in int_source_rows), for `where id in (…)`. -#}
{% macro written_source_rows(entity) -%}
    select cogito_id from {{ ref('int_source_rows') }} where entity = '{{ entity }}' and is_written
{%- endmacro %}
