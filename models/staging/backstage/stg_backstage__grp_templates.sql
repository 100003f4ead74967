-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('grp_templates') }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as grp_template_id,
        group_id,
        created_by_participant_id,

        -- strings
        name as template_name,

        -- timestamps
        created_at
    from source
)

select * from renamed
