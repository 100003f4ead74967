-- The genome lens: a block's structure as figures (who speaks, how turns alternate, how long they are, how often
-- they ask, how fast they follow each other, where the block sits in the topic tree), and for each figure its
-- z-score among the same client's blocks, so the result says what is unusual about this block. Set-based: every
-- block at once, each client's statistics from its own blocks only.
{{ config(materialized='table') }}
with recursive

lens_turns as (
    select * from {{ ref('int_lens_block_turns') }}
),

blocks as (
    select * from {{ ref('blocks') }}
    where {{ written_by_migration('block_id') }}  -- the migrated blocks (Cogito's own have its own lenses)
),

-- depth in the topic tree: 1 for a block without a parent
tree as (
    select
        block_id,
        1 as tree_depth
    from blocks
    where parent_block_id is null
    union all
    select
        child.block_id,
        tree.tree_depth + 1 as tree_depth
    from blocks as child
    inner join tree on child.parent_block_id = tree.block_id
),

children as (
    select
        parent_block_id as block_id,
        count(*)::integer as child_count
    from blocks
    where parent_block_id is not null
    group by parent_block_id
),

speaker_shares as (
    select
        block_id,
        count(*)::numeric / sum(count(*)) over (partition by block_id) as share
    from lens_turns
    group by block_id, participant_id
),

entropy as (
    select
        block_id,
        round(-sum(share * log(2.0, share)), 3) as speaker_entropy_bits
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

ends as (
    select
        block_id,
        (array_agg(source_type order by sequence_order))[1] as opened_by,
        (array_agg(source_type order by sequence_order desc))[1] as closed_by
    from lens_turns
    group by block_id
),

measured as (
    select
        lens_turns.client_id,
        lens_turns.block_id,
        count(*)::integer as turn_count,
        (count(*) filter (where lens_turns.source_type = 'human_input'))::integer as human_input_count,
        (count(*) filter (where lens_turns.source_type = 'ai_response'))::integer as ai_response_count,
        (count(*) filter (where lens_turns.source_type = 'comment'))::integer as comment_count,
        count(distinct lens_turns.participant_id)::integer as speaker_count,
        round(avg(lens_turns.content_length), 1) as mean_length,
        percentile_cont(0.5) within group (order by lens_turns.content_length) as median_length,
        percentile_cont(0.9) within group (order by lens_turns.content_length) as p90_length,
        round(avg(case when lens_turns.is_question then 1.0 else 0.0 end), 3) as question_rate,
        min(lens_turns.turn_timestamp) as first_turn_at,
        max(lens_turns.turn_timestamp) as last_turn_at,
        extract(epoch from max(lens_turns.turn_timestamp) - min(lens_turns.turn_timestamp))::float8 as span_seconds,
        percentile_cont(0.5) within group (order by lens_turns.seconds_since_previous) as median_gap_seconds,
        percentile_cont(0.9) within group (order by lens_turns.seconds_since_previous) as p90_gap_seconds
    from lens_turns
    group by lens_turns.client_id, lens_turns.block_id
),

-- every block, a block without turns too (its figures are 0 or empty)
joined as (
    select
        blocks.client_id,
        blocks.block_id,
        coalesce(measured.turn_count, 0) as turn_count,
        coalesce(measured.human_input_count, 0) as human_input_count,
        coalesce(measured.ai_response_count, 0) as ai_response_count,
        coalesce(measured.comment_count, 0) as comment_count,
        coalesce(measured.speaker_count, 0) as speaker_count,
        measured.mean_length,
        measured.median_length,
        measured.p90_length,
        measured.question_rate,
        measured.first_turn_at,
        measured.last_turn_at,
        measured.span_seconds,
        measured.median_gap_seconds,
        measured.p90_gap_seconds,
        ends.opened_by,
        ends.closed_by,
        entropy.speaker_entropy_bits,
        alternation.alternation_rate,
        tree.tree_depth,
        coalesce(children.child_count, 0) as child_count
    from blocks
    left join measured on blocks.block_id = measured.block_id
    left join ends on blocks.block_id = ends.block_id
    left join entropy on blocks.block_id = entropy.block_id
    left join alternation on blocks.block_id = alternation.block_id
    left join tree on blocks.block_id = tree.block_id
    left join children on blocks.block_id = children.block_id
),

final as (
    select
        joined.*,
        {{ lens_z_scores('joined', lens_genome_measures()) }}
    from joined
)

select * from final
