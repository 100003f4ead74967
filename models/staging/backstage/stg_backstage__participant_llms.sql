-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('participant_llms') }}
),

renamed as (
    select
        client_id,
        source_schema,
        participant_id,
        llm_id,
        created_at
    from source
)

select * from renamed
