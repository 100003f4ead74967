{#-
    The failing rows of columns_valid's `not_null`: every listed column is NOT NULL in every row, dbt's `not_null`
    for several columns in one scan. One row per column holding NULLs: the column and how many rows; per client
    (`client_id` first) when client_id is among the columns, so a failed build names the clients whose rows hold
    the NULLs.
-#}
{% macro columns_not_null(model, columns) %}
    {%- set by_client = 'client_id' in columns %}
    with

    counted as (
        select
            {%- if by_client %}
            client_id,
            {%- endif %}
            {%- for column in columns %}
            count(*) filter (where {{ adapter.quote(column) }} is null) as null_rows_{{ loop.index }}
            {{- ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
        {%- if by_client %}
        group by client_id
        {%- endif %}
    )

    select
        {%- if by_client %}
        counted.client_id,
        {%- endif %}
        nulls.column_name,
        nulls.null_rows
    from counted
    cross join lateral (
        values
        {%- for column in columns %}
        ({{ backstage_literal(column) }}, counted.null_rows_{{ loop.index }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as nulls (column_name, null_rows)
    where nulls.null_rows > 0
{% endmacro %}
