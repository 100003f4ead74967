-- The genome lens's figures of each block, from its migrated turns: counts by source type, speakers and their
-- entropy, human/AI alternation, who opens and closes, turn lengths, question rate, time span and gaps. Kept per
-- block: a run computes only the blocks whose turns changed since (lens_blocks_to_compute) and replaces their rows.
{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='block_id', on_schema_change='fail'
) }}
-- depends_on: {{ ref('blocks') }} {{ ref('migration_id_map') }}
with

block_turns as (
    {{ lens_block_turns_to_compute() }}
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
        turns.source_type,
        turns.timestamp as turn_timestamp,
        char_length(turns.content) as content_length,
        strpos(turns.content, '?') > 0 as is_question,
        extract(epoch from turns.timestamp - lag(turns.timestamp) over (
            partition by block_turns.block_id order by block_turns.sequence_order
        )) as seconds_since_previous
    from block_turns
    inner join turns on block_turns.turn_id = turns.turn_id
),

speaker_shares as (
    select
        block_id,
        participant_id,
        count(*) as speaker_turns,
        count(*)::float8 / sum(count(*)) over (partition by block_id) as speaker_share
    from lens_turns
    group by block_id, participant_id
),

-- turns by speaker: the block's ten most active speakers
top_speakers as (
    select
        block_id,
        jsonb_agg(
            jsonb_build_object('participant_id', participant_id, 'turns', speaker_turns)
            order by speaker_turns desc, participant_id asc
        ) as speaker_turns
    from (
        select
            *,
            row_number() over (partition by block_id order by speaker_turns desc, participant_id asc) as speaker_rank
        from speaker_shares
    ) as ranked
    where speaker_rank <= 10
    group by block_id
),

entropy as (
    select
        block_id,
        -- each term in float8 (numeric logarithms cost more than the rest of the figures), summed in numeric: the
        -- same shares give the same digits whatever order the aggregate reads them in
        round(-sum((speaker_share * log(speaker_share) / log(2.0::float8))::numeric), 3) as speaker_entropy_bits
    from speaker_shares
    group by block_id
),

-- human/AI alternation: consecutive turns of the dialogue (comments aside) whose source type changes
dialogue as (
    select
        block_id,
        source_type,
        lag(source_type) over (partition by block_id order by sequence_order) as previous_source_type
    from lens_turns
    where source_type <> 'comment'
),

alternation as (
    select
        block_id,
        round(avg(case when source_type <> previous_source_type then 1.0 else 0.0 end), 3) as alternation_rate
    from dialogue
    where previous_source_type is not null
    group by block_id
),

measured as (
    select
        client_id,
        block_id,
        count(*)::integer as turn_count,
        (count(*) filter (where source_type = 'human_input'))::integer as human_input_count,
        (count(*) filter (where source_type = 'ai_response'))::integer as ai_response_count,
        (count(*) filter (where source_type = 'comment'))::integer as comment_count,
        count(distinct participant_id)::integer as speaker_count,
        (array_agg(source_type order by sequence_order))[1] as opened_by,
        (array_agg(source_type order by sequence_order desc))[1] as closed_by,
        round(avg(content_length), 1) as mean_length,
        percentile_cont(0.5) within group (order by content_length) as median_length,
        percentile_cont(0.9) within group (order by content_length) as p90_length,
        round(avg(case when is_question then 1.0 else 0.0 end), 3) as question_rate,
        min(turn_timestamp) as first_turn_at,
        max(turn_timestamp) as last_turn_at,
        extract(epoch from max(turn_timestamp) - min(turn_timestamp))::float8 as span_seconds,
        percentile_cont(0.5) within group (order by seconds_since_previous) as median_gap_seconds,
        percentile_cont(0.9) within group (order by seconds_since_previous) as p90_gap_seconds
    from lens_turns
    group by client_id, block_id
),

final as (
    select
        measured.*,
        entropy.speaker_entropy_bits,
        top_speakers.speaker_turns,
        alternation.alternation_rate
    from measured
    inner join entropy on measured.block_id = entropy.block_id
    inner join top_speakers on measured.block_id = top_speakers.block_id
    left join alternation on measured.block_id = alternation.block_id
)

select * from final
