{#- The row this column points at belongs to the same client: no reference crosses tenants. -#}
{% test mart_same_client(model, column_name, to, field, client_column='client_id') %}
    select child.{{ column_name }}
    from {{ model }} as child
    inner join {{ to }} as parent on child.{{ column_name }} = parent.{{ field }}
    where child.{{ client_column }} is distinct from parent.{{ client_column }}
{% endtest %}
