{#- No object anywhere inside the jsonb column has a key that names a secret (see secret_key_pattern). -#}
{% test mart_no_secret_keys(model, column_name) %}
    with recursive nested (value) as (
        select {{ column_name }} from {{ model }} where {{ column_name }} is not null
        union all
        select child.value
        from nested
        cross join lateral (
            select object_entry.value
            from jsonb_each(case when jsonb_typeof(nested.value) = 'object' then nested.value end) as object_entry
            union all
            select array_element.value
            from jsonb_array_elements(case when jsonb_typeof(nested.value) = 'array' then nested.value end)
                as array_element (value)
        ) as child
    )

    select entry.key
    from nested
    cross join lateral jsonb_each(case when jsonb_typeof(nested.value) = 'object' then nested.value end) as entry
    where lower(entry.key) ~ {{ secret_key_pattern() }}
{% endtest %}
