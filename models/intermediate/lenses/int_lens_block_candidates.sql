-- The attractor lens's neighbour candidates: for each block with a centroid, the other blocks of its client whose
-- sign pattern (the binary-quantized centroid) is closest in Hamming distance, nearest first, ties by block id. The
-- order is strict, so a list is the exact beginning of its client's order: its first `lens_neighbour_candidates`
-- (what int_lens_block_neighbours ranks) are the same whichever runs made it. A search keeps twice as many.
-- A search looks at the blocks near the searched one through a pivot index (int_lens_block_pivot_distances). A re-run
-- searches again only for the blocks whose sign pattern is new or changed, and merges those into the other lists of
-- their client: an unchanged block's other entries keep their distance and every block outside its list was no
-- nearer than its old last entry, so the merged entries no farther than that are exact. A list left with fewer
-- than `lens_neighbour_candidates` of them (listed blocks moved away or are gone) is searched again.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='block_id',
    on_schema_change='fail',
    post_hook=[
        "delete from {{ this }} as known where not exists (select from {{ ref('int_lens_block_centroids') }} as current_block
        where current_block.block_id = known.block_id and current_block.centroid is not null)"
    ]
) }}
{%- set candidate_limit = var('lens_neighbour_candidates') %}
{#- Twice as many: a listed block moving away then rarely sends a block back to the full search. -#}
{%- set kept_candidates = 2 * candidate_limit %}
with

current_blocks as materialized (
    {{ lens_sign_patterns() }}
),

client_sizes as (
    select
        client_id,
        count(*) as block_count
    from current_blocks
    group by client_id
),

{%- if is_incremental() %}

-- blocks new since the last run or whose sign pattern changed
changed as materialized (
    select current_blocks.*
    from current_blocks
    left join {{ this }} as known on current_blocks.block_id = known.block_id
    where
        known.block_id is null
        or (known.client_id, known.sign_pattern) is distinct from (current_blocks.client_id, current_blocks.sign_pattern)
),

-- listed blocks whose listed pattern no longer holds: changed or gone
stale as materialized (
    select known.block_id
    from {{ this }} as known
    left join current_blocks
        on
            known.block_id = current_blocks.block_id
            and known.client_id = current_blocks.client_id
            and known.sign_pattern = current_blocks.sign_pattern
    where current_blocks.block_id is null
),

-- the unchanged blocks whose list may change: a changed block of their client may enter it, a listed one is stale,
-- or it is shorter than now asked (`lens_neighbour_candidates` raised since)
unchanged as materialized (
    select
        known.client_id,
        known.block_id,
        known.sign_pattern,
        known.candidate_ids,
        known.candidate_distances,
        known.is_exhaustive,
        -- the old last entry: every block outside the list was at least this far
        known.candidate_distances[cardinality(known.candidate_distances)] as last_distance,
        known.candidate_ids[cardinality(known.candidate_ids)] as last_candidate_id
    from {{ this }} as known
    where
        known.block_id not in (select stale.block_id from stale)
        and (
            known.client_id in (select changed.client_id from changed)
            or known.candidate_ids && array(select stale.block_id from stale)
            or (not known.is_exhaustive and cardinality(known.candidate_ids) < {{ candidate_limit }})
        )
),

-- the changed blocks of its client that enter such a list: those no farther than its old last entry (all of them
-- when the list held every block of the client)
entering as materialized (
    select
        pairs.block_id,
        pairs.candidate_id,
        pairs.distance
    from (
        select
            unchanged.block_id,
            unchanged.is_exhaustive,
            unchanged.last_distance,
            unchanged.last_candidate_id,
            changed.block_id as candidate_id,
            hamming_distance(unchanged.sign_pattern, changed.sign_pattern)::integer as distance
        from unchanged
        inner join changed on unchanged.client_id = changed.client_id
    ) as pairs
    where
        pairs.is_exhaustive
        or (pairs.distance, pairs.candidate_id) <= (pairs.last_distance, pairs.last_candidate_id)
),

-- the lists that do change: a block enters, a listed one is stale, or the list is short (the others stay as they are)
reworked as materialized (
    select unchanged.*
    from unchanged
    left join (select distinct entering.block_id from entering) as entered on unchanged.block_id = entered.block_id
    where
        entered.block_id is not null
        or unchanged.candidate_ids && array(select stale.block_id from stale)
        or (not unchanged.is_exhaustive and cardinality(unchanged.candidate_ids) < {{ candidate_limit }})
),

-- what each such list is merged from: its entries still valid, and the blocks entering it
pool as (
    select
        reworked.block_id,
        listed.candidate_id,
        listed.distance
    from reworked
    cross join lateral unnest(reworked.candidate_ids, reworked.candidate_distances) as listed (candidate_id, distance)
    where listed.candidate_id not in (select stale.block_id from stale)
    union all
    select
        block_id,
        candidate_id,
        distance
    from entering
),

ranked_pool as (
    select
        block_id,
        candidate_id,
        distance,
        row_number() over (partition by block_id order by distance, candidate_id) as candidate_rank
    from pool
),

merged_lists as (
    select
        block_id,
        array_agg(candidate_id order by candidate_rank) filter (where candidate_rank <= {{ kept_candidates }})
            as candidate_ids,
        array_agg(distance order by candidate_rank) filter (where candidate_rank <= {{ kept_candidates }})
            as candidate_distances,
        count(*) as pool_size
    from ranked_pool
    group by block_id
),

-- a merged list is the exact nearest `pool_size` blocks (every entry is no farther than the old last one, beyond
-- which all the others were): enough when it still holds `lens_neighbour_candidates`
merged as (
    select
        reworked.client_id,
        reworked.block_id,
        reworked.sign_pattern,
        coalesce(merged_lists.candidate_ids, '{}') as candidate_ids,
        coalesce(merged_lists.candidate_distances, '{}') as candidate_distances,
        reworked.is_exhaustive and coalesce(merged_lists.pool_size, 0) <= {{ kept_candidates }} as is_exhaustive,
        reworked.is_exhaustive or coalesce(merged_lists.pool_size, 0) >= {{ candidate_limit }} as is_exact,
        reworked.candidate_ids as old_candidate_ids,
        reworked.candidate_distances as old_candidate_distances,
        reworked.is_exhaustive as was_exhaustive
    from reworked
    left join merged_lists on reworked.block_id = merged_lists.block_id
),

{%- endif %}

to_search as (
    {%- if is_incremental() %}
        select
            client_id,
            block_id,
            sign_pattern
        from changed
        union all
        select
            client_id,
            block_id,
            sign_pattern
        from merged
        where not is_exact
    {%- else %}
        select
            client_id,
            block_id,
            sign_pattern
        from current_blocks
    {%- endif %}
),

-- The search, through the pivot index (int_lens_block_pivot_distances): for each searched block, its nearest pivot,
-- a radius within which it has at least `kept_candidates` other blocks, and then only the blocks whose distance to
-- that pivot lies within the radius of the block's own (by the triangle inequality, no other block can be within
-- the radius). The result is the search of every pair, without computing every pair.

-- the pivots: their own rows of the index, at distance 0 from themselves
pivots as materialized (
    {{ lens_indexed_pivots(ref('int_lens_block_pivot_distances')) }}
),

search_origins as materialized (
    select distinct on (to_search.block_id)
        to_search.block_id,
        to_search.sign_pattern,
        pivots.pivot_id,
        hamming_distance(to_search.sign_pattern, pivots.pivot_pattern)::integer as pivot_distance
    from to_search
    inner join pivots on to_search.client_id = pivots.client_id
    order by to_search.block_id, pivot_distance, pivots.pivot_id
),

-- the radius: the `kept_candidates`-th nearest of the blocks next to it in distance to the pivot (as many from each
-- side), which is no nearer than its true `kept_candidates`-th nearest; the farthest of them when the client has
-- fewer other blocks (then they are all there), NULL when it has none
search_radii as materialized (
    select
        search_origins.*,
        (
            select max(seeded.distance)
            from (
                select hamming_distance(search_origins.sign_pattern, seed.sign_pattern)::integer as distance
                from (
                    (
                        select
                            farther.block_id,
                            farther.sign_pattern
                        from {{ ref('int_lens_block_pivot_distances') }} as farther
                        where
                            farther.pivot_id = search_origins.pivot_id
                            and farther.distance >= search_origins.pivot_distance
                            and farther.block_id <> search_origins.block_id
                        order by farther.distance
                        limit {{ kept_candidates }}
                    )
                    union all
                    (
                        select
                            nearer.block_id,
                            nearer.sign_pattern
                        from {{ ref('int_lens_block_pivot_distances') }} as nearer
                        where
                            nearer.pivot_id = search_origins.pivot_id
                            and nearer.distance < search_origins.pivot_distance
                        order by nearer.distance desc
                        limit {{ kept_candidates }}
                    )
                ) as seed
                order by distance
                limit {{ kept_candidates }}
            ) as seeded
        ) as radius
    from search_origins
),

-- the nearest kept, among the blocks within the radius in distance to the pivot (a pivot's rows are all of its
-- client: never across clients)
found as (
    select
        search_radii.block_id,
        nearest.candidate_id,
        nearest.distance
    from search_radii
    cross join lateral (
        select
            other.block_id as candidate_id,
            hamming_distance(search_radii.sign_pattern, other.sign_pattern)::integer as distance
        from {{ ref('int_lens_block_pivot_distances') }} as other
        where
            other.pivot_id = search_radii.pivot_id
            and other.distance between search_radii.pivot_distance - search_radii.radius
            and search_radii.pivot_distance + search_radii.radius
            and other.block_id <> search_radii.block_id
        order by distance, other.block_id
        limit {{ kept_candidates }}
    ) as nearest
),

found_lists as (
    select
        block_id,
        array_agg(candidate_id order by distance, candidate_id) as candidate_ids,
        array_agg(distance order by distance, candidate_id) as candidate_distances
    from found
    group by block_id
),

searched as (
    select
        to_search.client_id,
        to_search.block_id,
        to_search.sign_pattern,
        coalesce(found_lists.candidate_ids, '{}') as candidate_ids,
        coalesce(found_lists.candidate_distances, '{}') as candidate_distances,
        client_sizes.block_count - 1 <= {{ kept_candidates }} as is_exhaustive
    from to_search
    inner join client_sizes on to_search.client_id = client_sizes.client_id
    left join found_lists on to_search.block_id = found_lists.block_id
),

final as (
    select
        client_id,
        block_id,
        sign_pattern,
        candidate_ids,
        candidate_distances,
        is_exhaustive
    from searched
    {%- if is_incremental() %}
    union all
    -- merged lists, written only when they changed
    select
        client_id,
        block_id,
        sign_pattern,
        candidate_ids,
        candidate_distances,
        is_exhaustive
    from merged
    where
        is_exact
        and (candidate_ids, candidate_distances, is_exhaustive)
        is distinct from (old_candidate_ids, old_candidate_distances, was_exhaustive)
    {%- endif %}
)

select * from final
