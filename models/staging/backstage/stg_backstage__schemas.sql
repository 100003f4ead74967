-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('schemas', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        -- ids: the client whose Backstage schema this row names (NULL for public and unmapped names)
        {{ backstage_client_id_for_schema('name') }} as client_id,
        source_schema,
        id as schema_id,
        owner_participant_id,

        -- strings
        name as schema_name,
        display_name,

        -- flags and json
        active as is_active,
        {{ backstage_strip_secrets('metadata') }} as metadata
    from source
)

select * from renamed
