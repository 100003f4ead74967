{#-
    Pre-hook of the block_turns mart on an incremental run: locks (`for no key update`, in block order) the rows in
    conversation.blocks of every block whose positions this merge may write: blocks of turns that are new, moved
    or placed differently than the target holds them, and the blocks moved turns leave. It runs before the model
    reads the target, in the same transaction, so the read sees every turn the application appended to those
    blocks, and the application, which numbers a block's turns under the same row lock, appends after the merge
    commits. A row lock, not a table lock: the application's writes to other blocks and every reader go on.
-#}
{% macro lock_blocks_to_renumber() -%}
    {%- if is_incremental() -%}
    select count(*) as blocks_locked
    from (
        select blocks.block_id
        from {{ ref('blocks') }} as blocks
        where blocks.block_id in (
            -- one pass: a turn new, moved or placed differently names its block, and a moved turn the one it leaves
            select unnest(array[placements.block_id, placed.block_id])
            from {{ ref('int_turns_ordered_within_blocks') }} as placements
            left join {{ this }} as placed on placements.cogito_turn_id = placed.turn_id
            where
                placed.turn_id is null
                or placed.block_id <> placements.block_id
                or placed.sequence_order <> placements.sequence_order
        )
        order by blocks.block_id
        for no key update of blocks
    ) as locked
    {%- endif -%}
{%- endmacro %}
