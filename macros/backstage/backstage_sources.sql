{#-
    Which Backstage sources exist. At parse time dbt has no `graph.sources` yet, so the list of (source, table)
    pairs that `cogito-migrate discover` wrote into backstage_discovered_tables() declares the lineage; at run
    time the source nodes themselves (with their `meta`: client id, layout, migrate) are the truth.
-#}

{#- Source nodes of Backstage schemas that carry `table`, in a stable order. -#}
{% macro backstage_source_nodes(table, include_tenants=true, include_public=false) %}
    {% set found = [] %}
    {% for node in graph.sources.values()
        if node.package_name == project_name and node.name == table and node.meta.get('backstage_kind') %}
        {% set kind = node.meta.get('backstage_kind') %}
        {% if kind == 'public' and include_public %}
            {% do found.append(node) %}
        {% elif kind == 'tenant' and include_tenants and node.meta.get('migrate') and node.meta.get('client_id') is not none %}
            {% do found.append(node) %}
        {% endif %}
    {% endfor %}
    {{ return(found | sort(attribute='source_name')) }}
{% endmacro %}

{#- Parse time only: call source() for every discovered (source, table) pair so lineage and selection see them. -#}
{% macro backstage_declare_sources(table, include_tenants=true, include_public=false) %}
    {% set discovered = backstage_discovered_tables() %}
    {% for source_name, tables in discovered.items() if table in tables %}
        {% set is_public = source_name == 'backstage_public' %}
        {% if (is_public and include_public) or (not is_public and include_tenants) %}
            {% do source(source_name, table) %}
        {% endif %}
    {% endfor %}
{% endmacro %}

{#-
    `case <expr> when '<schema>' then <client_id> ... end`: the migrated client whose Backstage schema `expr`
    names (public uploads name it in bucket_name, public event logs through public.schemas.name), else NULL.
-#}
{% macro backstage_client_id_for_schema(expr) %}
    {%- set pairs = {} -%}
    {%- if execute -%}
        {%- for node in graph.sources.values()
            if node.package_name == project_name and node.meta.get('backstage_kind') == 'tenant'
            and node.meta.get('migrate') and node.meta.get('client_id') is not none -%}
            {%- do pairs.update({node.schema: node.meta.get('client_id')}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if pairs -%}
        case {{ expr }}
        {%- for schema_name, client_id in pairs | dictsort %}
            when {{ backstage_literal(schema_name) }} then {{ client_id | int }}
        {%- endfor %}
        end
    {%- else -%}
        cast(null as integer)
    {%- endif -%}
{% endmacro %}

