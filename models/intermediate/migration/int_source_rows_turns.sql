-- Every Backstage turn (both layouts) lands as a turn, decided once: with a stand-in when its topic is gone (the
-- unfiled block), nothing names its speaker (the unknown participant), Backstage deleted its speaker since it was
-- migrated (the speaker it was migrated with), it has no creation time, or its embedding is all zeros.
with

topic_turns as (
    select * from {{ ref('stg_backstage__topic_turns') }}
),

legacy_turns as (
    select * from {{ ref('stg_backstage__legacy_turns') }}
),

turns as (
    select * from {{ ref('int_turns_unioned') }}
),

speakers as (
    select * from {{ ref('int_speakers_resolved') }}
),

placements as (
    select * from {{ ref('int_turns_ordered_within_blocks') }}
),

-- read from staging, not the reshaped turns, so the reconciliation checks the reshaping too
unioned as (
    select
        client_id,
        source_schema,
        'grp_topic_avatar_turns' as source_table,
        turn_id as source_turn_id,
        content_text as content,  -- noqa: RF04
        source_row_version
    from topic_turns
    union all
    select
        client_id,
        source_schema,
        'grp_con_avatar_turns' as source_table,
        turn_id as source_turn_id,
        content_text as content,  -- noqa: RF04
        source_row_version
    from legacy_turns
),

-- the uuid is the reshaped turn's (a turn the reshaping lost has none: the reconciliation reports it missing)
joined as (
    select
        unioned.client_id,
        unioned.source_schema,
        unioned.source_table,
        cast(unioned.source_turn_id as text) as source_id,
        unioned.content,
        unioned.source_row_version,
        turns.cogito_turn_id as cogito_id,
        turns.turn_id,
        turns.topic_id,
        turns.topic_index,
        turns.grp_con_id,
        turns.created_at,
        turns.updated_at,
        turns.is_zero_vector,
        placements.block_resolution,
        speakers.speaker_type,
        speakers.is_speaker_deleted_in_source,
        -- what the turn's Backstage row says of its speaker, for the two speaker reasons
        case
            when speakers.speaker_type = 'unknown' or speakers.is_speaker_deleted_in_source
                then jsonb_build_object(
                        'turn_id', turns.turn_id,
                        'speaker_resolution', speakers.speaker_resolution,
                        'participant_id', turns.participant_id,
                        'avatar_id', turns.avatar_id,
                        'llm_id', turns.llm_id,
                        'message_type_id', turns.message_type_id
                    )
        end as speaker_evidence
    from unioned
    left join turns
        on
            unioned.source_schema = turns.source_schema
            and unioned.source_table = turns.source_table
            and unioned.source_turn_id = turns.turn_id
    left join speakers on turns.cogito_turn_id = speakers.cogito_turn_id
    left join placements on turns.cogito_turn_id = placements.cogito_turn_id
),

reasoned as (
    select
        joined.client_id,
        'turn' as entity,
        joined.source_schema,
        joined.source_table,
        joined.source_id,
        {{ cogito_table_of('turn') }} as cogito_table,
        joined.cogito_id,
        joined.client_id as key_client_id,
        -- the version this decision read: the reconciliation tells a row written while the build read from loss
        joined.source_row_version,
        {{ content_hash('turn', 'joined') }} as content_hash,
        jsonb_strip_nulls(jsonb_build_object(
            -- the topic or conversation does not exist: the turn lands, in order, in the client's unfiled block
            'missing_topic', case
                when joined.block_resolution = 'unfiled'
                    then jsonb_build_object(
                            'turn_id', joined.turn_id,
                            'topic_id', joined.topic_id,
                            'topic_index', joined.topic_index,
                            'grp_con_id', joined.grp_con_id,
                            'fallback', 'unfiled block'
                        )
            end,
            'unknown_speaker', case
                when joined.speaker_type = 'unknown'
                    then joined.speaker_evidence || jsonb_build_object('fallback', 'unknown participant')
            end,
            'speaker_deleted_in_source', case
                when joined.is_speaker_deleted_in_source
                    then joined.speaker_evidence || jsonb_build_object('fallback', 'the speaker it was migrated with')
            end,
            -- no creation time: the turn takes its update time, else its block's
            'missing_created_at', case
                when joined.created_at is null and joined.turn_id is not null
                    then jsonb_build_object(
                            'turn_id', joined.turn_id,
                            'fallback',
                            case when joined.updated_at is not null then 'updated_at' else 'block created_at' end
                        )
            end,
            -- an all-zero vector is a failed embedding: it lands as NULL
            'zero_vector', case
                when joined.is_zero_vector
                    then jsonb_build_object('turn_id', joined.turn_id, 'fallback', 'content_vector NULL')
            end
        )) as reasons
    from joined
)

select
    *,
    {{ source_row_decision('turn') }}
from reasoned
