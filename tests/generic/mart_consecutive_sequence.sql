{#- Within each partition the order column runs 1, 2, ..., n: no gap, no repeat, no zero. -#}
{% test mart_consecutive_sequence(model, partition_by, order_column) %}
    select
        {{ partition_by }},
        count(*) as row_count,
        count(distinct {{ order_column }}) as distinct_positions,
        min({{ order_column }}) as first_position,
        max({{ order_column }}) as last_position
    from {{ model }}
    group by {{ partition_by }}
    having
        min({{ order_column }}) <> 1
        or max({{ order_column }}) <> count(*)
        or count(distinct {{ order_column }}) <> count(*)
{% endtest %}
