-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('participant_event_logs', include_tenants=false, include_public=true) }}
),

schemas as (
    {{ backstage_union('schemas', include_tenants=false, include_public=true) }}
),

-- the only join: schema_id -> public.schemas.name -> the client whose schema that is
tagged as (
    select
        source.*,
        schemas.name as schema_name,
        {{ backstage_client_id_for_schema('schemas.name') }} as schema_client_id
    from source
    left join schemas on source.schema_id = schemas.id
),

renamed as (
    select
        -- ids
        schema_client_id as client_id,
        source_schema,
        id as event_id,
        schema_id,
        participant_id,
        event_type_id,

        -- strings
        schema_name,
        description,
        ip_address,
        user_agent,

        -- json (may hold emails of unknown people; secret-like keys removed at any depth)
        {{ backstage_strip_secrets('details') }} as details,

        -- timestamps
        created_at
    from tagged
)

select * from renamed
