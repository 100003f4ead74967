{#-
    No object anywhere inside the jsonb column has a key that names a secret (see secret_key_pattern), in the rows
    the latest build wrote (written_by_this_build). The pattern is matched once per distinct key rather than once
    per row. Most values are flat objects: their keys are listed directly, and jsonpath walks every nesting level
    (in C, but three times slower over 200,000 turns) only in the values that nest an object or array, or are not
    an object at all.
-#}
{% test mart_no_secret_keys(model, column_name) %}
    with

    written as (
        select checked.{{ column_name }} as checked_value
        from {{ model }} as checked
        where {{ written_by_this_build('checked') }}
    ),

    -- materialized, each: else the planner pushes the pattern below the distinct, matching it once per row again
    top_level_keys as materialized (
        select distinct object_key.key
        from written
        cross join lateral jsonb_object_keys(
            case when jsonb_typeof(written.checked_value) = 'object' then written.checked_value end
        ) as object_key (key)
    ),

    nested_keys as materialized (
        select distinct object_key.key #>> '{}' as key
        from written
        cross join lateral jsonb_path_query(
            written.checked_value, 'strict $.** ? (@.type() == "object").keyvalue().key'
        ) as object_key (key)
        where
            case
                when jsonb_typeof(written.checked_value) = 'object'
                    then jsonb_path_exists(
                        written.checked_value, 'strict $.* ? (@.type() == "object" || @.type() == "array")'
                    )
                else true
            end
    ),

    object_keys as (
        select top_level_keys.key from top_level_keys
        union
        select nested_keys.key from nested_keys
    )

    select object_keys.key
    from object_keys
    where lower(object_keys.key) ~ {{ secret_key_pattern() }}
{% endtest %}
