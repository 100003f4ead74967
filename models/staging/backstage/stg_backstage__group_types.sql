-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.group_types
with

source as (
    {{ backstage_union('group_types', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as group_type_id,
        name as group_type_name
    from source
)

select * from renamed
