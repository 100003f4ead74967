{#- No two rows share the values of these expressions (columns or SQL such as `lower(email)`). -#}
{% test mart_unique_combination(model, expressions, where=none) %}
    select
        {% for expression in expressions -%}
        {{ expression }} as key_{{ loop.index }},
        {% endfor -%}
        count(*) as duplicates
    from {{ model }}
    {% if where %}where {{ where }}{% endif %}
    group by {% for expression in expressions %}{{ loop.index }}{{ ', ' if not loop.last }}{% endfor %}
    having count(*) > 1
{% endtest %}
