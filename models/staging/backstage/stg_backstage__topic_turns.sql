-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('grp_topic_avatar_turns', row_version=true) }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as turn_id,
        topic_id,
        topicpathid as topic_index,
        avatar_id,
        participant_id,
        llm_id,
        template_topic_id,

        -- codes and categories
        message_type_id,
        turn_kind_id,
        {{ backstage_speaker_kind('message_type_id') }} as speaker_kind,
        coalesce(turn_kind_id = 3, false) as is_comment,

        -- content
        turn_index,
        content_text,
        content_vector,
        {{ backstage_is_zero_vector('content_vector') }} as is_zero_vector,

        -- timestamps
        created_at,
        updated_at,

        -- change marker: the transaction that last wrote the row
        source_row_version
    from source
)

select * from renamed
