-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.file_types
with

source as (
    {{ backstage_union('file_types', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as file_type_id,
        name as file_type_name
    from source
)

select * from renamed
