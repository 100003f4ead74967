{#-
    backstage_strip_secrets(expr): the jsonb value `expr` without any object member whose key is named like a
    secret (api_key, apiKey, key, secret, token, password, …), at any depth, in plain SQL (no helper function:
    the staging views need nothing installed). A recursive CTE walks every member (objects and arrays) and
    collects the paths of secret-named keys; a second one deletes them one by one with `#-`. There is no depth
    limit. `max_tokens`, `keywords`, `author` are not secret names and stay.
-#}
{% macro backstage_secret_key_regex() -%}
    ^(.*[^a-z0-9])?(api_?key|key|keys|secret|secrets|token|password|passwd|pwd|credentials?|private_?key|access_?key|auth|authorization|bearer)([^a-z0-9].*)?$
{%- endmacro %}

{#- camelCase names (apiKey, accessToken, dbPassword) are matched case-sensitively on the capital. -#}
{% macro backstage_secret_camel_regex() -%}
    [a-z0-9](Key|Keys|Secret|Token|Password|Passwd|Credentials?)([A-Z_0-9-].*)?$
{%- endmacro %}

{% macro backstage_is_secret_key(key_expr) -%}
    (lower({{ key_expr }}) ~ '{{ backstage_secret_key_regex() }}' or {{ key_expr }} ~ '{{ backstage_secret_camel_regex() }}')
{%- endmacro %}

{% macro backstage_strip_secrets(expr) -%}
    (
        with recursive

        walked (member_path, member_key, is_object_member, member_value) as (
            select
                cast(array[] as text []),
                cast(null as text),
                false,
                {{ expr }}
            union all
            select
                walked.member_path || member.member_key,
                member.member_key,
                member.is_object_member,
                member.member_value
            from walked
            cross join lateral (
                select
                    object_member.key as member_key,
                    true as is_object_member,
                    object_member.value as member_value
                from jsonb_each(
                    case when jsonb_typeof(walked.member_value) = 'object' then walked.member_value end
                ) as object_member
                union all
                select
                    cast(array_member.position - 1 as text) as member_key,
                    false as is_object_member,
                    array_member.value as member_value
                from jsonb_array_elements(
                    case when jsonb_typeof(walked.member_value) = 'array' then walked.member_value end
                ) with ordinality as array_member (value, position)
            ) as member
            -- no need to walk below a member that is removed anyway
            where not (walked.is_object_member and {{ backstage_is_secret_key('walked.member_key') }})
        ),

        doomed as (
            select
                member_path,
                row_number() over (order by member_path) as step
            from walked
            where is_object_member and {{ backstage_is_secret_key('member_key') }}
        ),

        stripped (step, document) as (
            select
                cast(0 as bigint),
                {{ expr }}
            union all
            select
                doomed.step,
                stripped.document #- doomed.member_path
            from stripped
            inner join doomed on stripped.step + 1 = doomed.step
        )

        select stripped.document
        from stripped
        order by stripped.step desc
        limit 1
    )
{%- endmacro %}
