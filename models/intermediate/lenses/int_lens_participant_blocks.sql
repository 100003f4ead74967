-- What each participant does in each migrated block: turns, questions, whether they opened the block, how often
-- they answer another speaker, their turn lengths, the hours (UTC) and days they spoke. The participant patterns
-- add these up across blocks. Kept per block: a run computes only the blocks whose turns changed since
-- (lens_blocks_to_compute) and replaces all their rows.
{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='block_id', on_schema_change='fail'
) }}
-- depends_on: {{ ref('blocks') }} {{ ref('migration_id_map') }}
with

block_turns as (
    {{ lens_block_turns_to_compute('block_turn_count') }}
),

turns as (
    select * from {{ ref('turns') }}
),

lens_turns as (
    select
        block_turns.client_id,
        block_turns.block_id,
        block_turns.sequence_order,
        turns.participant_id,
        turns.timestamp as turn_timestamp,
        char_length(turns.content) as content_length,
        strpos(turns.content, '?') > 0 as is_question,
        (turns.timestamp at time zone 'UTC')::date as turn_day,
        extract(hour from turns.timestamp at time zone 'UTC')::integer as turn_hour,
        lag(turns.participant_id) over block_order as previous_speaker,
        count(*) over (partition by block_turns.block_id) as block_turn_count
    from block_turns
    inner join turns on block_turns.turn_id = turns.turn_id
    window block_order as (partition by block_turns.block_id order by block_turns.sequence_order)
),

final as (
    select
        lens_turns.client_id,
        lens_turns.block_id,
        lens_turns.participant_id,
        max(lens_turns.block_turn_count)::integer as block_turn_count,
        count(*)::integer as turn_count,
        (count(*) filter (where lens_turns.is_question))::integer as question_count,
        bool_or(lens_turns.sequence_order = 1) as opened_block,
        (count(*) filter (
            where lens_turns.previous_speaker is not null and lens_turns.previous_speaker <> lens_turns.participant_id
        ))::integer as answering_count,
        array_agg(lens_turns.content_length order by lens_turns.sequence_order) as turn_lengths,
        array_agg(distinct lens_turns.turn_day) as active_days,
        min(lens_turns.turn_timestamp) as first_turn_at,
        max(lens_turns.turn_timestamp) as last_turn_at,
        array_agg(lens_turns.turn_hour order by lens_turns.sequence_order) as turn_hours
    from lens_turns
    group by lens_turns.client_id, lens_turns.block_id, lens_turns.participant_id
)

select * from final
