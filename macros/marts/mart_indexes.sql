{#-
    Indexes the contract needs beyond what dbt's `constraints:` can express (expression indexes, partial unique
    indexes, vector indexes). Post-hooks run after every build: an index that exists renders no statement at all
    (even `create index if not exists` takes a SHARE lock on the live table first, which waits for every open write
    transaction of the application and holds up its writers meanwhile); names are `<table>__<suffix>` so that two
    marts never collide inside one schema.
-#}

{% macro mart_index_name(suffix) -%}
    {%- set name = this.identifier ~ '__' ~ suffix -%}
    {%- if name | length > 63 -%}
        {{ exceptions.raise_compiler_error("index name longer than PostgreSQL's 63 characters: " ~ name) }}
    {%- endif -%}
    {{ return(name) }}
{%- endmacro %}


{#- Whether the mart already has the index (at run time; while parsing nothing is known, and nothing runs). -#}
{% macro mart_index_exists(suffix) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set index = adapter.quote(this.schema) ~ '.' ~ adapter.quote(mart_index_name(suffix)) -%}
    {%- set found = run_query('select to_regclass(' ~ backstage_literal(index) ~ ') is not null')
        .columns[0].values()[0] -%}
    {{ return(found) }}
{%- endmacro %}


{% macro mart_index(suffix, expressions, method='btree', unique=false, where=none) -%}
    {%- if not mart_index_exists(suffix) -%}
    create {{ 'unique ' if unique }}index if not exists {{ adapter.quote(mart_index_name(suffix)) }}
        on {{ this }} using {{ method }} ({{ expressions | join(', ') }})
        {%- if where %} where {{ where }}{% endif %}
    {%- endif -%}
{%- endmacro %}


{#-
    Cosine distance is what the application's similarity search uses; hnsw needs no training data, unlike ivfflat.
    Built once, after the first load (later runs insert into it), with the memory its graph needs.
-#}
{% macro mart_vector_index(column) -%}
    {%- if not mart_index_exists(column ~ '_cosine') -%}
    {{ vector_index_build_memory(column) }};
    {{ mart_index(column ~ '_cosine', [adapter.quote(column) ~ ' vector_cosine_ops'], method='hnsw') }}
    {%- endif -%}
{%- endmacro %}


{#-
    Gives this transaction's index build (maintenance_work_mem) the memory an hnsw graph of the table's vectors
    needs: measured at 6,880 bytes per 1536-dimension vector (4 bytes a dimension and the element's neighbour
    lists), with a tenth more. A graph that does not fit is built partly on disk: at scale 10, 55.6 s with 512MB
    against 25.2 s in memory. Never less than the server's setting, never more than var
    vector_index_build_memory. Sized, not just raised: a parallel build reserves all of it in shared memory.
-#}
{% macro vector_index_build_memory(column) -%}
    select set_config('maintenance_work_mem', greatest(
        pg_size_bytes(current_setting('maintenance_work_mem')),
        least(
            pg_size_bytes('{{ var("vector_index_build_memory") }}'),
            ceil(count(*) * (4 * coalesce(nullif(dimensions.atttypmod, -1), 2000) + 800) * 1.1)::bigint
        )
    ) / 1024 || 'kB', true)
    from {{ this }}
    cross join (
        select atttypmod from pg_attribute where attrelid = '{{ this }}'::regclass and attname = '{{ column }}'
    ) as dimensions
    where {{ adapter.quote(column) }} is not null
    group by dimensions.atttypmod
{%- endmacro %}


{#-
    Row-level security for a mart (macros/isolation). The application role already exists: on-run-start creates it
    before any model runs (create_application_role).
-#}
{% macro mart_client_isolation(client_column='client_id', shared_rows_readable=false) -%}
    {{ enable_client_isolation(client_column, shared_rows_readable) }}
{%- endmacro %}
