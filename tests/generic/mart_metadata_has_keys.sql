{#- Every row's jsonb column (default `metadata`) carries each of these top-level keys. -#}
{% test mart_metadata_has_keys(model, keys, column_name='metadata') %}
    select *
    from {{ model }}
    where not ({{ column_name }} ?& array[
        {%- for key in keys %}'{{ key }}'{{ ', ' if not loop.last }}{% endfor -%}
    ]::text[])
{% endtest %}
