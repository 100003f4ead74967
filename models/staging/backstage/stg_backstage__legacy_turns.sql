-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('grp_con_avatar_turns', row_version=true) }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as turn_id,
        grp_con_id,
        avatar_id,
        template_topic_id,

        -- codes and categories
        message_type_id,
        turn_kind_id,
        {{ backstage_speaker_kind('message_type_id') }} as speaker_kind,
        coalesce(turn_kind_id = 3, false) as is_comment,

        -- content (legacy vectors predate real embeddings: hash placeholders)
        turn_index,
        content_text,
        content_vector,
        {{ backstage_is_zero_vector('content_vector') }} as is_zero_vector,
        content_vector is not null as is_placeholder_vector,

        -- timestamps
        created_at,

        -- change marker: the transaction that last wrote the row
        source_row_version
    from source
)

select * from renamed
