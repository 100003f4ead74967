{#-
    Every listed column is NOT NULL in every row: dbt's `not_null` for several columns at once, in one scan of the
    model instead of one query (and one dbt node) per column. Fails with one row per column holding NULLs: the
    column and how many rows.
-#}
{% test columns_not_null(model, columns) %}
    with

    counted as (
        select
            {%- for column in columns %}
            count(*) filter (where {{ adapter.quote(column) }} is null) as null_rows_{{ loop.index }}
            {{- ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    )

    select
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
{% endtest %}
