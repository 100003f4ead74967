-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('topic_paths') }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as topic_id,
        created_by as created_by_participant_id,

        -- strings
        path as topic_path,
        index as topic_index,

        -- numerics
        cardinality(string_to_array(path, '.')) as topic_depth,

        -- timestamps
        created_on as created_at
    from source
)

select * from renamed
