-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.turn_kinds
with

source as (
    {{ backstage_union('turn_kinds', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as turn_kind_id,
        name as turn_kind_name
    from source
)

select * from renamed
