-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.turn_relationship_types
with

source as (
    {{ backstage_union('turn_relationship_types', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as turn_relationship_type_id,
        name as turn_relationship_type_name
    from source
)

select * from renamed
