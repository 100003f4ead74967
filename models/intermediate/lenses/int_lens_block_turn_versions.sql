-- Each migrated block with migrated turns: how many it has, and the transaction that last wrote any of them (its
-- `block_turns` or `turns` rows; the marts write only changed rows, so xmin says when). Computed once per build,
-- so the four per-block lens models each compare it with when they last computed a block (lens_blocks_to_compute)
-- instead of each joining every turn again.
{{ config(materialized='table') }}
select
    block_turns.client_id,
    block_turns.block_id,
    count(*)::integer as turn_count,
    {{ lens_full_xid('min(least(age(block_turns.xmin), age(turns.xmin)))') }} as last_written_xid
from {{ ref('block_turns') }} as block_turns
inner join {{ ref('turns') }} as turns on block_turns.turn_id = turns.turn_id
where {{ lens_migrated('block_turns.turn_id') }} and {{ lens_migrated_block('block_turns.block_id') }}
group by block_turns.client_id, block_turns.block_id
