{#-
    `--full-refresh` must never rebuild a mart: dropping conversation.turns & co. would delete the rows Cogito
    wrote after cutover. dbt itself silently ignores the flag for a model configured `full_refresh: false` (it
    runs incrementally instead), which hides the operator's mistake; this on-run-start hook refuses the whole
    invocation instead, naming the marts, before anything runs. A mart that does not exist yet is not protected:
    building it for the first time loses nothing. Returns no SQL.
-#}
{% macro refuse_mart_full_refresh() -%}
    {%- if execute and flags.FULL_REFRESH -%}
        {%- set protected = [] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.unique_id in selected_resources
            and node.config.materialized == 'incremental' and node.config.full_refresh == false -%}
            {%- if adapter.get_relation(node.database, node.schema, node.alias) is not none -%}
                {%- do protected.append(node.schema ~ '.' ~ node.alias) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if protected -%}
            {{ exceptions.raise_compiler_error(
                "refusing --full-refresh: it would rebuild the Cogito target table(s) " ~ (protected | sort | join(', '))
                ~ ", deleting every row written by Cogito since cutover. Marts are incremental and never rebuilt"
                ~ " (full_refresh: false); run without --full-refresh. To start over on a scratch database, drop"
                ~ " the target schemas yourself."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
