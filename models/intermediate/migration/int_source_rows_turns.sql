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
        cast(turn_id as text) as source_id,
        {{ cogito_uuid('client_id', 'turn', 'source_schema', 'grp_topic_avatar_turns', 'turn_id') }} as cogito_id,
        content_text as content  -- noqa: RF04
    from topic_turns
    union all
    select
        client_id,
        source_schema,
        'grp_con_avatar_turns' as source_table,
        cast(turn_id as text) as source_id,
        {{ cogito_uuid('client_id', 'turn', 'source_schema', 'grp_con_avatar_turns', 'turn_id') }} as cogito_id,
        content_text as content  -- noqa: RF04
    from legacy_turns
),

reasoned as (
    select
        unioned.client_id,
        'turn' as entity,
        unioned.source_schema,
        unioned.source_table,
        unioned.source_id,
        {{ cogito_table_of('turn') }} as cogito_table,
        unioned.cogito_id,
        unioned.client_id as key_client_id,
        {{ content_hash('turn', 'unioned') }} as content_hash,
        jsonb_strip_nulls(jsonb_build_object(
            -- the topic or conversation does not exist: the turn lands, in order, in the client's unfiled block
            'missing_topic', case when placements.block_resolution = 'unfiled' then jsonb_build_object(
                'turn_id', turns.turn_id,
                'topic_id', turns.topic_id,
                'topic_index', turns.topic_index,
                'grp_con_id', turns.grp_con_id,
                'fallback', 'unfiled block'
            ) end,
            'unknown_speaker', case when speakers.speaker_type = 'unknown'
                then speaker_facts.speaker_evidence || jsonb_build_object('fallback', 'unknown participant') end,
            'speaker_deleted_in_source', case when speakers.is_speaker_deleted_in_source
                then speaker_facts.speaker_evidence || jsonb_build_object('fallback', 'the speaker it was migrated with') end,
            -- no creation time: the turn takes its update time, else its block's
            'missing_created_at', case when turns.created_at is null then jsonb_build_object(
                'turn_id', turns.turn_id,
                'fallback', case when turns.updated_at is not null then 'updated_at' else 'block created_at' end
            ) end,
            -- an all-zero vector is a failed embedding: it lands as NULL
            'zero_vector', case when turns.is_zero_vector then jsonb_build_object(
                'turn_id', turns.turn_id,
                'fallback', 'content_vector NULL'
            ) end
        )) as reasons
    from unioned
    left join turns on unioned.cogito_id = turns.cogito_turn_id
    left join speakers on unioned.cogito_id = speakers.cogito_turn_id
    left join placements on unioned.cogito_id = placements.cogito_turn_id
    -- what the turn's Backstage row says of its speaker, for the two speaker reasons
    cross join lateral (
        select case when speakers.speaker_type = 'unknown' or speakers.is_speaker_deleted_in_source
            then jsonb_build_object(
                'turn_id', turns.turn_id,
                'speaker_resolution', speakers.speaker_resolution,
                'participant_id', turns.participant_id,
                'avatar_id', turns.avatar_id,
                'llm_id', turns.llm_id,
                'message_type_id', turns.message_type_id
            ) end as speaker_evidence
    ) as speaker_facts
)

select
    *,
    {{ source_row_decision('turn') }}
from reasoned
