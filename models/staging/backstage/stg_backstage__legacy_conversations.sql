-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('grp_cons') }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as grp_con_id,
        group_id,
        parent_grp_con_id,
        template_id,
        type_id as grp_con_type_id,

        -- strings
        name as conversation_name,
        description,

        -- timestamps
        created_at
    from source
)

select * from renamed
