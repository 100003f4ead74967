-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.preference_types
with

source as (
    {{ backstage_union('preference_types', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as preference_type_id,
        name as preference_type_name
    from source
)

select * from renamed
