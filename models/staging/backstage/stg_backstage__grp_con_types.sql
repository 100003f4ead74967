-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.grp_con_types
with

source as (
    {{ backstage_union('grp_con_types', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as grp_con_type_id,
        name as grp_con_type_name
    from source
)

select * from renamed
