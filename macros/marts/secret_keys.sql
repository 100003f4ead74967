{#- Secret detection shared by the marts' data tests. -#}

{#-
    Keys that name a secret (api_key, apikey, secret, password, pwd, token but not `tokens`, credential, `key` as a
    word). The staging layer strips such keys already; the marts' data tests check again with this independent
    pattern, so a gap in one of the two shows up as a failing test rather than a leak.
-#}
{% macro secret_key_pattern() -%}
    '(api_?key|apikey|secret|passw(or)?d|pwd|token(?!s)|credential|(^|[_-])key($|[_-]))'
{%- endmacro %}
