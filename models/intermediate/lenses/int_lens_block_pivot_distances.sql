-- The search index of the neighbour candidates: each block's Hamming distance (of sign patterns) to a few pivot
-- blocks of its client, with its own sign pattern, indexed by (pivot, distance). Hamming distance is a metric, so a
-- block x can be within r of a block q only if |d(x, pivot) - d(q, pivot)| <= r: int_lens_block_candidates scans
-- one range of this index per searched block instead of every block of its client. The pivots are any blocks (the
-- search is exact whichever they are): lens_pivots() scatters them, so that most groups of similar blocks hold one
-- and a block's nearest pivot is near it.
-- Incremental: a re-run writes the rows of new or changed blocks (for every pivot) and of new or changed pivots (for
-- every block); the post-hook forgets gone blocks and former pivots. Vacuumed once written (outside the transaction, as
-- VACUUM must be): the search then reads the index alone, without visiting the table for every row to check that
-- it is visible (2.6 s against 5.3 s at scale 10). The write's commit waits for its WAL record (the embedded server
-- commits asynchronously): until then VACUUM may not mark the rows visible to all. Statistics come from the
-- project's analyze_when_stale() post-hook, as for every intermediate table.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['pivot_id', 'block_id'],
    on_schema_change='fail',
    post_hook=[
        "{{ forget_stale_pivot_distances() }}",
        "create index if not exists int_lens_block_pivot_distances_search
        on {{ this }} (pivot_id, distance) include (block_id, sign_pattern)",
        "set local synchronous_commit = on",
        {"sql": "vacuum {{ this }}", "transaction": false}
    ]
) }}
with

blocks as materialized (
    {{ lens_sign_patterns() }}
),

pivots as materialized (
    {{ lens_pivots('blocks') }}
),

{%- if is_incremental() %}

-- the pivots whose rows hold: listed at distance 0 from themselves with their current pattern (a pivot that changed
-- or is new is written whole; one that stopped being a pivot was forgotten, so none has part of its rows)
kept_pivots as materialized (
    select pivots.*
    from pivots
    inner join ({{ lens_indexed_pivots(this) }}) as listed
        on pivots.pivot_id = listed.pivot_id and pivots.pivot_pattern = listed.pivot_pattern
),

-- one kept pivot a client, whose rows list each block with the pattern it had when its rows were last written
reference_rows as (
    select
        known.block_id,
        known.sign_pattern
    from {{ this }} as known
    inner join (
        select min(kept_pivots.pivot_id::text)::uuid as pivot_id
        from kept_pivots
        group by kept_pivots.client_id
    ) as reference on known.pivot_id = reference.pivot_id
),

-- blocks new or whose pattern changed since (every block of a client without a kept pivot); materialized, so that
-- the planner does not pair every block with every pivot before finding them
changed_blocks as materialized (
    select blocks.*
    from blocks
    left join reference_rows
        on
            blocks.block_id = reference_rows.block_id
            and blocks.sign_pattern = reference_rows.sign_pattern
    where reference_rows.block_id is null
),

{%- endif %}

-- the (pivot, block) pairs to write: every pair on a first build; on a re-run, the changed blocks with the kept
-- pivots and every block with the other pivots
pairs as (
    {%- if is_incremental() %}
        select
            kept_pivots.client_id,
            kept_pivots.pivot_id,
            kept_pivots.pivot_pattern,
            changed_blocks.block_id,
            changed_blocks.sign_pattern
        from kept_pivots
        inner join changed_blocks on kept_pivots.client_id = changed_blocks.client_id
        union all
    {%- endif %}
    select
        pivots.client_id,
        pivots.pivot_id,
        pivots.pivot_pattern,
        blocks.block_id,
        blocks.sign_pattern
    from pivots
    inner join blocks on pivots.client_id = blocks.client_id
    {%- if is_incremental() %}
        where pivots.pivot_id not in (select kept_pivots.pivot_id from kept_pivots)
    {%- endif %}
),

final as (
    select
        client_id,
        pivot_id,
        block_id,
        hamming_distance(sign_pattern, pivot_pattern)::integer as distance,
        sign_pattern
    from pairs
)

select * from final
