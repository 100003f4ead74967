{#-
    `materialized='index'`: the model's SQL is a statement on another model's table (an index build), run in one
    transaction between the model's hooks. It makes no relation of its own. A node of its own lets dbt run what reads
    the indexed table while the index builds, instead of after it (a post-hook holds back every child).
-#}
{% materialization index, adapter='postgres' %}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {% call statement('main') -%}
        {{ sql }}
    {%- endcall %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': []}) }}
{% endmaterialization %}
