{#-
    Column metadata of every Backstage schema the sources name, from ONE catalogue query per dbt invocation.
    The result is kept in the `graph` dict, which all nodes of one invocation share; the staging model
    stg_backstage__tenant_columns runs first (the unions depend on it), so the query runs once even with threads.
-#}

{#- The catalogue query itself (also the body of stg_backstage__tenant_columns). -#}
{% macro backstage_catalogue_sql() %}
    {%- set schemas = [] -%}
    {%- for node in (graph.sources.values() if execute else [])
        if node.package_name == project_name and node.meta.get('backstage_kind') and node.schema not in schemas -%}
        {%- do schemas.append(node.schema) -%}
    {%- endfor -%}
    select
        n.nspname::text as schema_name,
        c.relname::text as table_name,
        a.attname::text as column_name,
        format_type(a.atttypid, a.atttypmod) as data_type,
        a.attnum::integer as ordinal_position
    from pg_catalog.pg_attribute as a
    inner join pg_catalog.pg_class as c on a.attrelid = c.oid
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where
        n.nspname in (
            {%- for schema_name in schemas | sort %}{{ backstage_literal(schema_name) }}{{ ", " if not loop.last }}{% endfor -%}
            {%- if not schemas %}null{% endif -%}
        )
        and c.relkind in ('r', 'p', 'v', 'm', 'f')
        and a.attnum > 0
        and not a.attisdropped
{%- endmacro %}

{#- {schema: {table: {column: type}}}, fetched once and cached for the rest of the invocation. -#}
{% macro backstage_catalogue() %}
    {% if not execute %}
        {{ return({}) }}
    {% endif %}
    {% if '_backstage_catalogue' not in graph %}
        {% set catalogue = {} %}
        {% set result = run_query('/* backstage catalogue */ ' ~ backstage_catalogue_sql() ~ ' order by 1, 2, 5') %}
        {% for row in result.rows %}
            {% do catalogue.setdefault(row[0], {}).setdefault(row[1], {}).update({row[2]: row[3]}) %}
        {% endfor %}
        {% do graph.update({'_backstage_catalogue': catalogue}) %}
    {% endif %}
    {{ return(graph['_backstage_catalogue']) }}
{% endmacro %}
