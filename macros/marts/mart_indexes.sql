{#-
    Indexes the contract needs beyond what dbt's `constraints:` can express (expression indexes, partial unique
    indexes, vector indexes). Post-hooks run after every build, so each statement is idempotent
    (`if not exists`); names are `<table>__<suffix>` so that two marts never collide inside one schema.
-#}

{% macro mart_index_name(suffix) -%}
    {%- set name = this.identifier ~ '__' ~ suffix -%}
    {%- if name | length > 63 -%}
        {{ exceptions.raise_compiler_error("index name longer than PostgreSQL's 63 characters: " ~ name) }}
    {%- endif -%}
    {{ return(name) }}
{%- endmacro %}


{% macro mart_index(suffix, expressions, method='btree', unique=false, where=none) -%}
    create {{ 'unique ' if unique }}index if not exists {{ adapter.quote(mart_index_name(suffix)) }}
        on {{ this }} using {{ method }} ({{ expressions | join(', ') }})
        {%- if where %} where {{ where }}{% endif %}
{%- endmacro %}


{#-
    Cosine distance is what the application's similarity search uses; hnsw needs no training data, unlike ivfflat.
    Built once, after the first load (later runs insert into it). With the default 64MB of maintenance_work_mem the
    graph of 200,000 turns no longer fits and the build takes ~3x longer: this transaction may use more.
-#}
{% macro mart_vector_index(column) -%}
    set local maintenance_work_mem = '{{ var("vector_index_build_memory") }}';
    {{ mart_index(column ~ '_cosine', [adapter.quote(column) ~ ' vector_cosine_ops'], method='hnsw') }}
{%- endmacro %}


{#-
    Row-level security for a mart (macros/isolation). The application role already exists: on-run-start creates it
    before any model runs (create_application_role).
-#}
{% macro mart_client_isolation(client_column='client_id', shared_rows_readable=false) -%}
    {{ enable_client_isolation(client_column, shared_rows_readable) }}
{%- endmacro %}
