{#-
    No object anywhere inside the jsonb column has a key that names a secret (see secret_key_pattern), in the rows
    the latest build wrote (written_by_this_build). jsonpath walks every nesting level in C; the pattern is matched
    once per distinct key rather than once per row.
-#}
{% test mart_no_secret_keys(model, column_name) %}
    with

    -- materialized: else the planner pushes the pattern below the distinct, matching it once per row again
    object_keys as materialized (
        select distinct object_key.key
        from {{ model }} as checked
        cross join lateral jsonb_path_query(
            checked.{{ column_name }}, 'strict $.** ? (@.type() == "object").keyvalue().key'
        ) as object_key (key)
        where {{ written_by_this_build('checked') }}
    )

    select object_keys.key #>> '{}' as key
    from object_keys
    where lower(object_keys.key #>> '{}') ~ {{ secret_key_pattern() }}
{% endtest %}
