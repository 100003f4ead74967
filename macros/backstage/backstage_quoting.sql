{#- Identifier and literal quoting that is safe for any name: dbt's own quoting does not double embedded quotes. -#}
{% macro backstage_quote_ident(name) -%}
    "{{ name | string | replace('"', '""') }}"
{%- endmacro %}

{% macro backstage_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}

{% macro backstage_relation_sql(node) -%}
    {{ backstage_quote_ident(node.database) }}.{{ backstage_quote_ident(node.schema) }}.{{ backstage_quote_ident(node.identifier) }}
{%- endmacro %}
