{#-
    backstage_strip_secrets(expr): the jsonb value `expr` without any object key named like a secret
    (api_key, apiKey, key, secret, token, password, …) at any depth, in plain SQL (no helper function, so the
    staging views need nothing installed). Each level rebuilds objects and arrays from their stripped members
    (one subquery per level, so the SQL grows linearly with depth); below `depth` levels a subtree is kept only
    if a jsonpath search finds no secret-like key anywhere in it, and becomes NULL otherwise: nothing secret
    passes, however deep it hides. `max_tokens`, `keywords`, `author` are not secret names and stay.
-#}
{% macro backstage_secret_key_regex() -%}
    ^(.*[^a-z0-9])?(api_?key|key|keys|secret|secrets|token|password|passwd|pwd|credentials?|private_?key|access_?key|auth)([^a-z0-9].*)?$
{%- endmacro %}

{#- camelCase names (apiKey, accessToken, dbPassword) are matched case-sensitively on the capital. -#}
{% macro backstage_secret_camel_regex() -%}
    [a-z0-9](Key|Keys|Secret|Token|Password|Passwd|Credentials?)([A-Z_0-9-].*)?$
{%- endmacro %}

{% macro backstage_is_secret_key(key_expr) -%}
    (lower({{ key_expr }}) ~ '{{ backstage_secret_key_regex() }}' or {{ key_expr }} ~ '{{ backstage_secret_camel_regex() }}')
{%- endmacro %}

{% macro backstage_strip_secrets(expr, depth=8) -%}
    {{ backstage_strip_secrets_level(expr, depth, 1) }}
{%- endmacro %}

{% macro backstage_strip_secrets_level(expr, depth, level) -%}
    {%- set members = 'm' ~ level -%}
    {%- set stripped = 's' ~ level -%}
    {%- if level > depth -%}
        (case
            when jsonb_path_exists(
                {{ expr }},
                'strict $.** ? (@.type() == "object").keyvalue() ? (@.key like_regex "{{ backstage_secret_key_regex() }}" flag "i" || @.key like_regex "{{ backstage_secret_camel_regex() }}")'
            ) then null
            else {{ expr }}
        end)
    {%- else -%}
        (
            select
                case jsonb_typeof({{ expr }})
                    when 'object' then coalesce(
                        jsonb_object_agg({{ stripped }}.member_key, {{ stripped }}.member_value)
                            filter (where {{ stripped }}.member_key is not null),
                        '{}'::jsonb
                    )
                    when 'array' then coalesce(
                        jsonb_agg({{ stripped }}.member_value order by {{ stripped }}.member_position),
                        '[]'::jsonb
                    )
                    else {{ expr }}
                end
            from (
                select
                    {{ members }}.member_key,
                    {{ members }}.member_position,
                    {{ backstage_strip_secrets_level(members ~ '.member_value', depth, level + 1) }} as member_value
                from (
                    select
                        object_member.key as member_key,
                        cast(null as bigint) as member_position,
                        object_member.value as member_value
                    from jsonb_each(case when jsonb_typeof({{ expr }}) = 'object' then {{ expr }} end) as object_member
                    union all
                    select
                        cast(null as text) as member_key,
                        array_member.position as member_position,
                        array_member.value as member_value
                    from jsonb_array_elements(case when jsonb_typeof({{ expr }}) = 'array' then {{ expr }} end)
                        with ordinality as array_member (value, position)
                ) as {{ members }}
                where {{ members }}.member_key is null or not {{ backstage_is_secret_key(members ~ '.member_key') }}
            ) as {{ stripped }}
        )
    {%- endif -%}
{%- endmacro %}
