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
    The two decided columns of a source row, from its reasons (a jsonb object reason -> evidence) and the
    vocabulary; how every int_source_rows_<entity> model ends (`select *, {{ source_row_decision('turn') }}`).
    `disposition`: `held` when one of its reasons holds rows of this entity back, `migrated_with_fallback` for any
    other reason, else `migrated`; a reason the vocabulary gives both dispositions (`email_taken`) holds the row
    back until it first lands (`already_landed`, an SQL condition), then keeps it as it was last migrated.
    `is_written`: whether the mart writes the row's current content this run (no reason of either kind).
-#}
{% macro source_row_decision(entity, reasons='reasons', already_landed='false') -%}
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
    end as disposition,
    {%- if held or held_until_landed %}
    not ({{ reasons }} ?| array['{{ (held + held_until_landed) | join("', '") }}']) as is_written
    {%- else %}
    true as is_written
    {%- endif %}
{%- endmacro %}


{#- The Cogito table rows of the entity in `entity_column` land in (per the vocabulary), as an SQL expression. -#}
{% macro entity_cogito_table(entity_column) -%}
    case {{ entity_column }}
        {%- for entity, spec in var('migration_entities').items() %}
        when '{{ entity }}' then '{{ spec.cogito_table }}'
        {%- endfor %}
    end
{%- endmacro %}


{#- The Cogito table of an entity (per the vocabulary), as an SQL literal. -#}
{% macro cogito_table_of(entity) -%}
    '{{ var('migration_entities')[entity].cogito_table }}'
{%- endmacro %}


{#- The uuids of an entity's rows its mart writes this run (the decision in int_source_rows), for `where id in (…)`. -#}
{% macro written_source_rows(entity) -%}
    select cogito_id from {{ ref('int_source_rows') }} where entity = '{{ entity }}' and is_written
{%- endmacro %}
