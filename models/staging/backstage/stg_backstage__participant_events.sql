-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('participant_events') }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as event_id,
        participant_id,
        event_type_id,

        -- json (secret-like keys removed at any depth)
        {{ backstage_strip_secrets('details') }} as details,

        -- timestamps
        created_at
    from source
)

select * from renamed
