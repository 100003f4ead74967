{#-
    Every column of every Backstage schema the sources name: the ONE catalogue query of a dbt invocation.
    Compiling this model fills the catalogue cache; every union model depends on it, so they compile after it.
-#}
{% do backstage_catalogue() %}

with

catalogue as (
    {{ backstage_catalogue_sql() }}
),

renamed as (
    select
        schema_name as source_schema,
        table_name,
        column_name,
        data_type,
        ordinal_position
    from catalogue
)

select * from renamed
