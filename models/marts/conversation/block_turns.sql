-- Which block every migrated turn sits in and its position there: one row per turn, 1..n per block without gaps
-- after every run. How each change in Backstage between two runs lands here: "Changes between runs" in
-- models/marts/migration/_migration__docs.md. Merged on turn_id (only rows in the migration's own blocks: see
-- incremental_predicates), so a turn that moved to another topic moves here too instead of sitting in two blocks.
with

placements as (
    select * from {{ ref('int_turns_ordered_within_blocks') }}
),

-- what the target holds in the migration's blocks (nothing on the first run); Cogito's own blocks are its alone
existing as (
    {{ previous_rows(['block_id', 'turn_id', 'sequence_order'], where=written_by_migration('block_id')) }}
),

-- Blocks Cogito has written turns into since cutover: there Cogito's order stands. Placed rows never move (not
-- even when Backstage moves the turn elsewhere), and turns arriving in the block are appended after its end.
shared_blocks as (
    select
        block_id,
        max(sequence_order) as last_position
    from existing
    group by block_id
    having bool_or(not {{ written_by_migration('turn_id') }})
),

-- Migrated turns whose Backstage row is gone: kept where they are, ordered by the key they had when last migrated
kept as (
    select
        existing.block_id,
        existing.turn_id,
        turns.client_id,
        turns.metadata ->> 'block_resolution' as block_resolution,
        coalesce(
            turns.metadata ->> 'original_topic_id',
            'index:' || (turns.metadata ->> 'original_topic_index'),
            turns.metadata ->> 'original_grp_con_id'
        ) as original_container_key,
        cast(turns.metadata ->> 'turn_index' as numeric) as turn_index,
        cast(turns.metadata ->> 'original_created_at' as timestamptz) as created_at,
        cast(turns.metadata ->> 'original_turn_id' as bigint) as source_turn_id
    from existing
    inner join {{ ref('turns') }} as turns on existing.turn_id = turns.turn_id
    where
        {{ written_by_migration('existing.turn_id') }}
        and not exists (
            select from placements
            where placements.cogito_turn_id = existing.turn_id
        )
),

-- every current Backstage turn, and whether it already sits in a block Cogito wrote into (then it stays there)
current_turns as (
    select
        placements.client_id,
        placements.block_id,
        placements.cogito_turn_id as turn_id,
        placements.lost_container_key,
        placements.turn_index,
        placements.created_at,
        placements.turn_id as source_turn_id,
        placed_in_shared.block_id is not null as stays_in_shared_block
    from placements
    left join existing
        on placements.cogito_turn_id = existing.turn_id
    left join shared_blocks as placed_in_shared
        on existing.block_id = placed_in_shared.block_id
),

-- blocks only the migration wrote: current and kept turns together, in block order, 1..n
migration_block_members as (
    select
        client_id,
        block_id,
        turn_id,
        lost_container_key,
        turn_index,
        created_at,
        source_turn_id
    from current_turns
    where
        not stays_in_shared_block
        and block_id not in (select shared_blocks.block_id from shared_blocks)
    union all
    select
        client_id,
        block_id,
        turn_id,
        case when block_resolution = 'unfiled' then original_container_key end as lost_container_key,
        turn_index,
        created_at,
        source_turn_id
    from kept
    where block_id not in (select shared_blocks.block_id from shared_blocks)
),

migration_block_rows as (
    select
        block_id,
        turn_id,
        client_id,
        cast(row_number() over (
            partition by block_id
            order by {{ block_turn_order('lost_container_key', 'turn_index', 'created_at', 'source_turn_id') }}
        ) as integer) as sequence_order
    from migration_block_members
),

-- turns arriving in a block Cogito wrote into (new, or moved there in Backstage): after its last position
appended_rows as (
    select
        current_turns.block_id,
        current_turns.turn_id,
        current_turns.client_id,
        shared_blocks.last_position + cast(row_number() over (
            partition by current_turns.block_id
            order by {{ block_turn_order(
                'current_turns.lost_container_key', 'current_turns.turn_index', 'current_turns.created_at',
                'current_turns.source_turn_id'
            ) }}
        ) as integer) as sequence_order
    from current_turns
    inner join shared_blocks on current_turns.block_id = shared_blocks.block_id
    where
        not current_turns.stays_in_shared_block
),

final as (
    select * from migration_block_rows
    union all
    select * from appended_rows
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
