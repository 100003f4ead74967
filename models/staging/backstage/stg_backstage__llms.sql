-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('llms', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        -- ids (api_key is not in the column spec: it is never read)
        client_id,
        source_schema,
        id as llm_id,
        type_id as llm_type_id,

        -- strings
        name as llm_name,
        provider,
        model,
        subdomain,

        -- numerics
        temperature,
        max_tokens,

        -- json (secret-like keys removed at any depth)
        {{ backstage_strip_secrets('additional_config') }} as additional_config,

        -- timestamps
        created_at,
        updated_at
    from source
)

select * from renamed
