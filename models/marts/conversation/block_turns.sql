with

placements as (
    select * from {{ ref('int_turns_ordered_within_blocks') }}
),

-- what the target holds already (nothing on the first run)
existing as (
    {% if is_incremental() -%}
        select
            block_id,
            turn_id,
            sequence_order
        from {{ this }}
    {%- else -%}
        select
            cast(null as uuid) as block_id,
            cast(null as uuid) as turn_id,
            cast(null as integer) as sequence_order
        where false
    {%- endif %}
),

-- Blocks Cogito has written turns into since cutover (its turn uuids are not the migration's version 3). There
-- Cogito's order stands: placed rows never move, and new Backstage turns are appended after the block's last
-- position, in source order. Every other block keeps the source order 1..n, recomputed on each run.
shared_blocks as (
    select
        block_id,
        max(sequence_order) as last_position
    from existing
    group by block_id
    having bool_or(substr(cast(turn_id as text), 15, 1) <> '3')
),

matched as (
    select
        placements.client_id,
        placements.block_id,
        placements.cogito_turn_id,
        placements.sequence_order as source_position,
        existing.sequence_order as placed_position,
        shared_blocks.last_position,
        row_number() over (
            partition by placements.block_id, existing.turn_id is null
            order by placements.sequence_order
        ) as rank_among_unplaced
    from placements
    left join shared_blocks on placements.block_id = shared_blocks.block_id
    left join existing
        on
            placements.block_id = existing.block_id
            and placements.cogito_turn_id = existing.turn_id
),

positioned as (
    select
        client_id,
        block_id,
        cogito_turn_id,
        case
            when last_position is null then source_position
            when placed_position is not null then placed_position
            else last_position + cast(rank_among_unplaced as integer)
        end as sequence_order
    from matched
),

final as (
    select
        block_id,
        cogito_turn_id as turn_id,
        client_id,
        sequence_order
    from positioned
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
