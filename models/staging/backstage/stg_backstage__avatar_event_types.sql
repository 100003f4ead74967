-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.avatar_event_types
with

source as (
    {{ backstage_union('avatar_event_types', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as avatar_event_type_id,
        name as avatar_event_type_name
    from source
)

select * from renamed
