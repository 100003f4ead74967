-- The speaker of every turn (never dropped for want of one), and the rule that chose it (target spec "Speakers").
-- A speaker Backstage deleted after the turn was migrated (the person, or the membership that named them) no
-- longer resolves; the migrated participant stays in the target, so the turn keeps the speaker it was migrated with.
-- A table, not a view: the marts join it several times and each uuid is computed once here. Kept with the `sync`
-- strategy: computed whole, written only where a row changed, so its rows' xmin tell the marts what changed.
{{ config(
    materialized='incremental',
    incremental_strategy='sync',
    unique_key='cogito_turn_id',
    on_schema_change='sync_all_columns',
    meta={'reads_marts': ['turns']}
) }}
with

turns as (
    select * from {{ ref('int_turns_unioned') }}
),

members as (
    select * from {{ ref('int_memberships_derived') }}
),

avatars as (
    select * from {{ ref('stg_backstage__avatars') }}
),

llms as (
    select * from {{ ref('stg_backstage__llms') }}
),

participant_avatars as (
    select * from {{ ref('stg_backstage__participant_avatars') }}
),

-- legacy layout: a user turn carries the user's avatar; its owner is the one member linked to that avatar
avatar_owners as (
    select
        participant_avatars.client_id,
        participant_avatars.avatar_id,
        min(participant_avatars.participant_id) as owner_participant_id,
        count(distinct participant_avatars.participant_id) as owner_count
    from participant_avatars
    inner join members
        on
            participant_avatars.client_id = members.client_id
            and participant_avatars.participant_id = members.participant_id
    group by participant_avatars.client_id, participant_avatars.avatar_id
),

candidates as (
    select
        turns.client_id,
        turns.source_schema,
        turns.source_table,
        turns.turn_id,
        turns.cogito_turn_id,
        turns.layout,
        turns.speaker_side,
        turns.participant_id,
        turns.avatar_id,
        turns.llm_id,
        member.participant_id is not null as participant_is_member,
        turn_avatar.avatar_id is not null as avatar_exists,
        participant_as_avatar.avatar_id is not null as participant_id_is_avatar,
        turn_llm.llm_id is not null as llm_exists,
        avatar_as_llm.llm_id is not null as avatar_id_is_llm,
        avatar_owners.owner_participant_id,
        coalesce(avatar_owners.owner_count, 0) as owner_count
    from turns
    left join members as member
        on
            turns.client_id = member.client_id
            and turns.participant_id = member.participant_id
    left join avatars as turn_avatar
        on
            turns.client_id = turn_avatar.client_id
            and turns.avatar_id = turn_avatar.avatar_id
    left join avatars as participant_as_avatar
        on
            turns.client_id = participant_as_avatar.client_id
            and turns.participant_id = participant_as_avatar.avatar_id
    left join llms as turn_llm on turns.llm_id = turn_llm.llm_id
    left join llms as avatar_as_llm on turns.avatar_id = avatar_as_llm.llm_id
    left join avatar_owners
        on
            turns.client_id = avatar_owners.client_id
            and turns.avatar_id = avatar_owners.avatar_id
),

-- first matching rule wins; the rule's name goes into the turn's metadata
resolved as (
    select
        *,
        case
            -- a comment whose participant_id is its own avatar id: the avatar commented
            when
                layout = 'topic' and speaker_side = 'human' and participant_id_is_avatar
                and participant_id = avatar_id then 'comment_avatar_in_participant_id'
            when layout = 'topic' and speaker_side in ('human', 'undetermined') and participant_is_member
                then 'participant_id'
            -- legacy turns have no participant column: the avatar's one owner spoke (topic layout never guesses)
            when layout = 'legacy' and speaker_side = 'human' and owner_count = 1 then 'avatar_owner'
            when layout = 'topic' and speaker_side in ('assistant', 'undetermined') and llm_exists then 'llm_id'
            when layout = 'legacy' and speaker_side in ('assistant', 'undetermined') and avatar_id_is_llm
                then 'legacy_avatar_id_is_llm'
            when speaker_side = 'assistant' and avatar_exists then 'avatar_id'
            when layout = 'legacy' and speaker_side = 'human' and owner_count > 1 then 'unknown_avatar_owner_ambiguous'
            when layout = 'topic' and speaker_side = 'human' and participant_id is not null
                then 'unknown_participant_not_member'
            when speaker_side = 'undetermined' then 'unknown_message_type'
            else 'unknown_unresolved'
        end as speaker_resolution
    from candidates
),

-- who the rule names: a kind of participant and its Backstage id (the unknown participant has none)
speakers as (
    select
        resolved.client_id,
        resolved.source_schema,
        resolved.source_table,
        resolved.turn_id,
        resolved.cogito_turn_id,
        case
            when resolved.speaker_resolution in ('participant_id', 'avatar_owner') then 'human'
            when resolved.speaker_resolution in ('llm_id', 'legacy_avatar_id_is_llm') then 'llm'
            when resolved.speaker_resolution in ('avatar_id', 'comment_avatar_in_participant_id') then 'avatar'
            else 'unknown'
        end as speaker_type,
        case resolved.speaker_resolution
            when 'participant_id' then resolved.participant_id
            when 'avatar_owner' then resolved.owner_participant_id
        end as speaker_participant_id,
        case resolved.speaker_resolution
            when 'avatar_id' then resolved.avatar_id
            when 'comment_avatar_in_participant_id' then resolved.participant_id
        end as speaker_avatar_id,
        case resolved.speaker_resolution
            when 'llm_id' then resolved.llm_id
            when 'legacy_avatar_id_is_llm' then resolved.avatar_id
        end as speaker_llm_id,
        resolved.speaker_resolution
    from resolved
),

-- each speaker's uuid computed once, not once per turn: a few thousand speakers say 200,000 turns at scale 10
speaker_ids as materialized (
    select
        distinct_speakers.*,
        case distinct_speakers.speaker_type
            when 'human'
                then {{ human_participant_uuid('distinct_speakers.client_id', 'distinct_speakers.speaker_key') }}
            when 'llm'
                then {{ llm_participant_uuid('distinct_speakers.client_id', 'distinct_speakers.speaker_key') }}
            when 'avatar'
                then {{ avatar_participant_uuid(
                    'distinct_speakers.client_id', 'distinct_speakers.source_schema', 'distinct_speakers.speaker_key'
                ) }}
            else {{ unknown_participant_uuid('distinct_speakers.client_id', 'distinct_speakers.source_schema') }}
        end as speaker_id
    from (
        select distinct
            client_id,
            source_schema,
            speaker_type,
            coalesce(speaker_participant_id, speaker_avatar_id, speaker_llm_id, 0) as speaker_key
        from speakers
    ) as distinct_speakers
),

-- what the target holds for turns whose speaker no longer resolves (nothing on the first run)
unresolved_in_target as (
    {{ migrated_rows(
        'turns', ['turn_id', 'participant_id', 'metadata'],
        where="turn_id in (select speakers.cogito_turn_id from speakers where speakers.speaker_type = 'unknown')"
    ) }}
),

final as (
    select
        speakers.client_id,
        speakers.source_schema,
        speakers.source_table,
        speakers.turn_id,
        speakers.cogito_turn_id,
        coalesce(speaker_lost.metadata ->> 'speaker_type', speakers.speaker_type) as speaker_type,
        speakers.speaker_participant_id,
        speakers.speaker_avatar_id,
        speakers.speaker_llm_id,
        coalesce(speaker_lost.metadata ->> 'speaker_resolution', speakers.speaker_resolution) as speaker_resolution,
        coalesce(speaker_lost.participant_id, speaker_ids.speaker_id) as speaker_id,
        speaker_lost.turn_id is not null as is_speaker_deleted_in_source
    from speakers
    left join speaker_ids
        on
            speakers.client_id = speaker_ids.client_id
            and speakers.source_schema = speaker_ids.source_schema
            and speakers.speaker_type = speaker_ids.speaker_type
            and coalesce(speakers.speaker_participant_id, speakers.speaker_avatar_id, speakers.speaker_llm_id, 0)
            = speaker_ids.speaker_key
    left join unresolved_in_target as speaker_lost
        on
            speakers.cogito_turn_id = speaker_lost.turn_id
            and speaker_lost.metadata ->> 'speaker_type' <> 'unknown'
)

select * from final
