-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('participant_groups') }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        participant_id,
        group_id,

        -- roles: topic-layout schemas store an id, legacy schemas a text
        participant_role_id,
        role as role_text,
        case
            when participant_role_id is not null then 'role_id'
            when role is not null then 'role_text'
            else 'none'
        end as role_form,

        -- timestamps
        created_at
    from source
)

select * from renamed
