-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('groups') }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as group_id,
        group_type_id,

        -- strings
        name as group_name,
        description,

        -- timestamps
        created_at
    from source
)

select * from renamed
