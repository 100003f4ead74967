-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('participants', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as participant_id,

        -- strings (never the password: the password step carries hashes into stg_migration__carried_passwords)
        name as participant_name,
        email,
        lower(email) as email_normalized,

        -- timestamps
        created_at
    from source
)

select * from renamed
