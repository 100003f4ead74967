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

-- what the target holds for turns whose speaker no longer resolves (nothing on the first run); read from the
-- intermediate table, not the `speakers` CTE, which a second reference would materialize and hide from the planner
unresolved_in_target as (
    {{ previous_rows(
        ['turn_id', 'participant_id', 'metadata'],
        where="turn_id in (select cogito_turn_id from " ~ ref('int_speakers_resolved') ~ " where speaker_type = 'unknown')"
    ) }}
),

-- A speaker whose Backstage rows were deleted (the person, or the membership that named them) no longer resolves;
-- the migrated participant is kept, so the turn keeps it rather than falling back to the unknown speaker.
speakers_kept as (
    select
        speakers.client_id,
        speakers.source_table,
        speakers.turn_id,
        speaker_lost.turn_id is not null as is_speaker_deleted_in_source,
        coalesce(speaker_lost.participant_id, speakers.speaker_id) as speaker_id,
        coalesce(speaker_lost.metadata ->> 'speaker_type', speakers.speaker_type) as speaker_type,
        coalesce(speaker_lost.metadata ->> 'speaker_resolution', speakers.speaker_resolution) as speaker_resolution
    from speakers
    left join unresolved_in_target as speaker_lost
        on
            speakers.cogito_turn_id = speaker_lost.turn_id
            and speaker_lost.metadata ->> 'speaker_type' <> 'unknown'
),

final as (
    select
        turns.cogito_turn_id as turn_id,
        turns.client_id,
        speakers_kept.speaker_id as participant_id,
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
            'speaker_type', speakers_kept.speaker_type,
            'speaker_resolution', speakers_kept.speaker_resolution,
            'speaker_deleted_in_source', case when speakers_kept.is_speaker_deleted_in_source then true end,
            'block_resolution', placements.block_resolution,
            'content_vector_placeholder', turns.is_placeholder_vector,
            'content_vector_was_zero', turns.is_zero_vector
        ) as metadata
    from turns
    inner join speakers_kept
        on
            turns.client_id = speakers_kept.client_id
            and turns.source_table = speakers_kept.source_table
            and turns.turn_id = speakers_kept.turn_id
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
