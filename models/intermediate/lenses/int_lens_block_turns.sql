-- Every migrated turn as the lenses see it: where it sits in its block, who spoke, how long it is, whether it asks,
-- and how long after the previous turn of the block it came. Read from the Cogito marts (the lenses analyse what
-- Cogito holds); no text and no vector is kept here, only what the measures need.
{{ config(materialized='table') }}
with

turns as (
    select * from {{ ref('turns') }}
),

-- what the migration wrote: turns Cogito adds after cutover are its own lenses' business, and a re-run over an
-- unchanged source must not change these rows
block_turns as (
    select * from {{ ref('block_turns') }}
    where {{ written_by_migration('turn_id') }} and {{ written_by_migration('block_id') }}
),

participants as (
    select * from {{ ref('participants') }}
),

final as (
    select
        block_turns.client_id,
        block_turns.block_id,
        turns.turn_id,
        block_turns.sequence_order,
        turns.participant_id,
        participants.type as speaker_type,
        turns.source_type,
        turns.timestamp as turn_timestamp,
        char_length(turns.content) as content_length,
        strpos(turns.content, '?') > 0 as is_question,
        extract(epoch from turns.timestamp - lag(turns.timestamp) over (
            partition by block_turns.block_id order by block_turns.sequence_order
        )) as seconds_since_previous
    from block_turns
    inner join turns on block_turns.turn_id = turns.turn_id
    inner join participants on turns.participant_id = participants.id
)

select * from final
