{#-
    Incremental marts merge on their uuid key and never delete. On an incremental run the model only hands the
    merge the rows that are new or differ from what the target holds, so a re-run over an unchanged source
    writes nothing at all. Columns listed in `merge_exclude_columns` (state Cogito owns after cutover, such as
    `last_login`) are neither compared nor overwritten.

    Usage, as the last clause of a mart: `select * from final as candidate {{ only_new_or_changed_rows() }}`.
-#}

{% macro only_new_or_changed_rows(alias='candidate') -%}
    {%- if is_incremental() -%}
        {%- set key = config.get('unique_key') -%}
        {%- set keys = [key] if key is string else key -%}
        {%- set excluded = config.get('merge_exclude_columns') or [] -%}
        {%- set compared = [] -%}
        {%- for column in model.columns.keys() if column not in excluded and column not in keys -%}
            {%- do compared.append(adapter.quote(column)) -%}
        {%- endfor %}
    where not exists (
        select
        from {{ this }} as existing
        where
            {% for k in keys -%}
            existing.{{ adapter.quote(k) }} = {{ alias }}.{{ adapter.quote(k) }}
            and {% endfor -%}
            row({% for c in compared %}existing.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
            is not distinct from
            row({% for c in compared %}{{ alias }}.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
    )
    {%- endif -%}
{%- endmacro %}


{#-
    The rows an earlier run left in this mart (the given contract columns, optionally filtered), or on the first
    run an empty relation with the same columns and types (from the model's contract): what a mart compares its
    new rows against, written once. Usage, as a CTE body: `existing as ({{ previous_rows(['id', 'email']) }})`.
-#}
{% macro previous_rows(columns, where=none) -%}
    {%- if is_incremental() %}
        select
        {%- for column in columns %}
            {{ adapter.quote(column) }}{{ ',' if not loop.last }}
        {%- endfor %}
        from {{ this }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
    {%- else %}
        select
        {%- for column in columns %}
            {#- the contract is only known at execution; parsing needs no types #}
            {%- set data_type = model.columns[column].data_type if execute else 'text' %}
            cast(null as {{ data_type }}) as {{ adapter.quote(column) }}{{ ',' if not loop.last }}
        {%- endfor %}
        where false
    {%- endif %}
{%- endmacro %}
