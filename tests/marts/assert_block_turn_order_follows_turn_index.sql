-- Inside every topic or conversation block, sequence_order is the order of (turn_index, created_at, id): the
-- turns' original values as the migration recorded them, so turns kept after Backstage deleted them count too.
-- Blocks Cogito has written turns into since cutover keep Cogito's order (see block_turns) and are not checked.
-- Checked: the blocks where the latest build wrote a turn or a position (a block's order changes only so; the
-- others were checked by the build that last wrote them).
with

touched_blocks as (
    select block_turns.block_id
    from {{ ref('block_turns') }} as block_turns
    where {{ written_by_this_build('block_turns') }}
    union
    select block_turns.block_id
    from {{ ref('block_turns') }} as block_turns
    inner join {{ ref('turns') }} as turns on block_turns.turn_id = turns.turn_id
    where {{ written_by_this_build('turns') }}
),

ordered as (
    select
        block_turns.block_id,
        block_turns.sequence_order,
        row_number() over (
            partition by block_turns.client_id, block_turns.block_id
            order by {{ block_turn_order(
                'cast(null as text)',
                "(turns.metadata ->> 'turn_index')::numeric",
                "(turns.metadata ->> 'original_created_at')::timestamptz",
                "(turns.metadata ->> 'original_turn_id')::bigint"
            ) }}
        ) as expected_order
    from {{ ref('block_turns') }} as block_turns
    inner join {{ ref('turns') }} as turns on block_turns.turn_id = turns.turn_id
    inner join {{ ref('blocks') }} as blocks on block_turns.block_id = blocks.block_id
    where
        blocks.block_type = 'conversation'
        and block_turns.block_id in (select touched_blocks.block_id from touched_blocks)
        and not exists (
            select
            from {{ ref('block_turns') }} as cogito_written
            where
                cogito_written.block_id = block_turns.block_id
                and not {{ written_by_migration('cogito_written.turn_id') }}
        )
)

select *
from ordered
where sequence_order <> expected_order
