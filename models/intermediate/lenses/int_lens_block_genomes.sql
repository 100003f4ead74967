-- The genome lens per block: its figures (int_lens_block_figures; zeros for a block without turns), where it sits
-- in the block tree, and each figure's z-score among the same client's blocks, so the result says what is unusual
-- about this block. Set-based over the per-block figures: every block at once, each client only against itself.
{{ config(materialized='table') }}
with recursive

blocks as (
    select * from {{ ref('blocks') }}
    where {{ lens_migrated_block('block_id') }}  -- the migrated blocks (Cogito's own have its own lenses)
),

figures as (
    select * from {{ ref('int_lens_block_figures') }}
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

-- every block, a block without turns too (its counts are 0, its other figures empty)
joined as (
    select
        blocks.client_id,
        blocks.block_id,
        coalesce(figures.turn_count, 0) as turn_count,
        coalesce(figures.human_input_count, 0) as human_input_count,
        coalesce(figures.ai_response_count, 0) as ai_response_count,
        coalesce(figures.comment_count, 0) as comment_count,
        coalesce(figures.speaker_count, 0) as speaker_count,
        figures.opened_by,
        figures.closed_by,
        figures.mean_length,
        figures.median_length,
        figures.p90_length,
        figures.question_rate,
        figures.first_turn_at,
        figures.last_turn_at,
        figures.span_seconds,
        figures.median_gap_seconds,
        figures.p90_gap_seconds,
        figures.speaker_entropy_bits,
        figures.speaker_turns,
        figures.alternation_rate,
        tree.tree_depth,
        coalesce(children.child_count, 0) as child_count
    from blocks
    left join figures on blocks.block_id = figures.block_id
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
