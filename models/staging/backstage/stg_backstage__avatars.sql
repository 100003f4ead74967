-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('avatars') }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as avatar_id,
        avatar_scope_id,

        -- strings
        name as avatar_name,
        instruction_set,

        -- json (secret-like keys removed at any depth)
        {{ backstage_strip_secrets('llm_config') }} as llm_config,

        -- timestamps
        created_at
    from source
)

select * from renamed
