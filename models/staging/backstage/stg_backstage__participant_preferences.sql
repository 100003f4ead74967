-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('participant_preferences') }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as participant_preference_id,
        participant_id,
        preference_type_id,

        -- numerics
        value as preference_value,

        -- timestamps
        created_at
    from source
)

select * from renamed
