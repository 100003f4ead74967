{#-
    backstage_union(table): one select per Backstage schema that has `table` (migrated tenants and/or public),
    each giving `client_id`, `source_schema` and then exactly the spec columns of that table, cast to the spec
    type; a column the schema lacks is a typed NULL. Staging models rename and categorise on top of this.
    With `row_version`, also `source_row_version`: the row's xmin, the transaction that last wrote it, which
    changes on every insert or update of the row (what a re-run compares to skip unchanged heavy rows).
-#}
{% macro backstage_union(table, include_tenants=true, include_public=false, row_version=false) %}
    {%- set spec = backstage_column_specs()[table] -%}
    {%- if not execute -%}
        {%- do backstage_declare_sources(table, include_tenants, include_public) -%}
    {%- endif -%}
    {%- set nodes = backstage_source_nodes(table, include_tenants, include_public) if execute else [] -%}
    {%- set catalogue = backstage_catalogue() -%}
    {%- if nodes | length == 0 %}
    {{ backstage_empty_select(spec, row_version) }}
    {%- endif -%}
    {%- for node in nodes %}
        {%- set columns = catalogue.get(node.schema, {}).get(node.identifier) -%}
        {%- if columns is none -%}
            {{ exceptions.raise_compiler_error(
                "Backstage table " ~ node.schema ~ "." ~ node.identifier ~ " is declared in the generated sources but "
                ~ "not in the database: run `cogito-migrate discover` again.") }}
        {%- endif %}
    {{ "union all" if not loop.first }}
    select
        cast({{ node.meta.get('client_id') | int if node.meta.get('backstage_kind') == 'tenant' else 'null' }} as integer) as client_id,
        cast({{ backstage_literal(node.schema) }} as text) as source_schema,
        {%- for column_name, column_type in spec.items() %}
        {{ backstage_cast_column(column_name, columns.get(column_name), column_type) }} as {{ backstage_quote_ident(column_name) }}{{ "," if not loop.last or row_version }}
        {%- endfor %}
        {%- if row_version %}
        xmin as source_row_version
        {%- endif %}
    from {{ backstage_relation_sql(node) }}
    {%- endfor %}
{%- endmacro %}

{#- A select with the union's columns and no rows (no schema carries the table). -#}
{% macro backstage_empty_select(spec, row_version=false) -%}
    select
        cast(null as integer) as client_id,
        cast(null as text) as source_schema,
        {%- for column_name, column_type in spec.items() %}
        cast(null as {{ column_type }}) as {{ backstage_quote_ident(column_name) }}{{ "," if not loop.last or row_version }}
        {%- endfor %}
        {%- if row_version %}
        cast(null as xid) as source_row_version
        {%- endif %}
    where false
{%- endmacro %}

{#-
    One spec column from one schema. Same type: as is. Otherwise an explicit cast: direct where PostgreSQL
    has one (numbers, timestamps, anything to or from text), through text for the rest (enums, json, ltree, …).
-#}
{% macro backstage_cast_column(column_name, source_type, spec_type) -%}
    {%- set numeric_types = ['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision'] -%}
    {%- set time_types = ['timestamp with time zone', 'timestamp without time zone', 'date'] -%}
    {%- set text_types = ['text', 'character varying', 'character', 'name'] -%}
    {%- set column_sql = backstage_quote_ident(column_name) -%}
    {%- if source_type is none -%}
        cast(null as {{ spec_type }})
    {%- elif source_type == spec_type -%}
        {{ column_sql }}
    {%- else -%}
        {%- set source_base = source_type.split('(')[0] -%}
        {%- set spec_base = spec_type.split('(')[0] -%}
        {%- if spec_base in text_types or source_base in text_types
            or (source_base in numeric_types and spec_base in numeric_types)
            or (source_base in time_types and spec_base in time_types) -%}
            cast({{ column_sql }} as {{ spec_type }})
        {%- else -%}
            cast(cast({{ column_sql }} as text) as {{ spec_type }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
