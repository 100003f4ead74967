{#- A row's parent (same table) belongs to the same client, and no row is its own parent. -#}
{% test mart_parent_in_same_client(model, id_column, parent_column, client_column='client_id') %}
    select child.{{ id_column }}
    from {{ model }} as child
    inner join {{ model }} as parent on child.{{ parent_column }} = parent.{{ id_column }}
    where
        child.{{ client_column }} is distinct from parent.{{ client_column }}
        or child.{{ id_column }} = parent.{{ id_column }}
{% endtest %}
