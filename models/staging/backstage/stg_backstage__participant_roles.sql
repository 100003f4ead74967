-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.participant_roles
with

source as (
    {{ backstage_union('participant_roles', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        role_id as participant_role_id,
        role_name,
        description
    from source
)

select * from renamed
