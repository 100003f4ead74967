{#-
    The failing rows of columns_valid's `accepted_values`: every listed column holds only its accepted values (NULL
    passes), dbt's `accepted_values` for several columns in one scan. The values are compared as literals, which
    PostgreSQL reads as the column's type (`'1'` for an integer, `'true'` for a boolean). One row per unexpected
    value: the column, the value and how many rows hold it.
-#}
{% macro columns_accepted_values(model, values) %}
    {%- set unexpected = [] %}
    {%- for column, accepted in values.items() %}
        {%- set literals = [] %}
        {%- for value in accepted %}
            {%- do literals.append(backstage_literal(value)) %}
        {%- endfor %}
        {%- do unexpected.append(adapter.quote(column) ~ ' not in (' ~ literals | join(', ') ~ ')') %}
    {%- endfor %}
    select
        found.column_name,
        found.unexpected_value,
        count(*) as unexpected_rows
    from {{ model }}
    cross join lateral (
        values
        {%- for column in values %}
        (
            {{ backstage_literal(column) }},
            case when {{ unexpected[loop.index0] }} then cast({{ adapter.quote(column) }} as text) end
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as found (column_name, unexpected_value)
    where
        found.unexpected_value is not null
        -- rows whose every column is accepted never reach the lateral join
        and ({% for condition in unexpected %}{{ condition }}{{ ' or ' if not loop.last }}{% endfor %})
    group by found.column_name, found.unexpected_value
{% endmacro %}
