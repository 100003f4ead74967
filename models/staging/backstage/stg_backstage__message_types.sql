-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.message_types
with

source as (
    {{ backstage_union('message_types', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as message_type_id,
        name as message_type_name
    from source
)

select * from renamed
