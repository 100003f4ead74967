with

turns as (
    select * from {{ ref('int_turns_unioned') }}
),

speakers as (
    select * from {{ ref('int_speakers_resolved') }}
),

placements as (
    select * from {{ ref('int_turns_ordered_within_blocks') }}
),

blocks as (
    select * from {{ ref('int_blocks_nested') }}
),

final as (
    select
        turns.cogito_turn_id as turn_id,
        turns.client_id,
        speakers.speaker_id as participant_id,
        turns.content_text as content,  -- noqa: RF04
        turns.source_type,
        turns.source_turn_id,
        coalesce(turns.created_at, turns.updated_at, blocks.created_at) as timestamp,
        case when turns.is_zero_vector then null else turns.content_vector end as content_vector,
        jsonb_build_object(
            'client_id', turns.client_id,
            'migrated_from', 'backstage',
            'schema_name', turns.source_schema,
            'source_table', turns.source_table,
            'original_turn_id', turns.turn_id,
            'original_topic_id', turns.topic_id,
            'original_topic_index', turns.topic_index,
            'original_grp_con_id', turns.grp_con_id,
            -- as text: numeric 2.50 and 2.5 are equal but Backstage wrote them differently
            'turn_index', cast(turns.turn_index as text),
            'message_type_id', turns.message_type_id,
            'turn_kind_id', turns.turn_kind_id,
            'avatar_id', turns.avatar_id,
            'llm_id', turns.llm_id,
            'participant_id', turns.participant_id,
            'template_topic_id', turns.template_topic_id,
            'original_created_at', turns.created_at,
            'speaker_type', speakers.speaker_type,
            'speaker_resolution', speakers.speaker_resolution,
            'speaker_deleted_in_source', case when speakers.is_speaker_deleted_in_source then true end,
            'block_resolution', placements.block_resolution,
            'content_vector_placeholder', turns.is_placeholder_vector,
            'content_vector_was_zero', turns.is_zero_vector
        ) as metadata
    from turns
    inner join speakers
        on
            turns.client_id = speakers.client_id
            and turns.source_table = speakers.source_table
            and turns.turn_id = speakers.turn_id
    inner join placements
        on
            turns.client_id = placements.client_id
            and turns.source_table = placements.source_table
            and turns.turn_id = placements.turn_id
    inner join blocks
        on
            placements.client_id = blocks.client_id
            and placements.block_id = blocks.block_id
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
