-- The attractor lens's neighbourhood: each block's nearest blocks of the same client by centroid (cosine distance),
-- ranked among its candidates (int_lens_block_candidates: the blocks with the closest sign pattern, a fast and
-- deterministic prefilter). Computed whole on every run: a fixed number of distances per block.
{{ config(materialized='table') }}
with

-- held in memory once (a copy, not the stored value, so no distance below reads it again from TOAST)
centroids as (
    select
        block_id,
        subvector(centroid, 1, vector_dims(centroid)) as centroid
    from {{ ref('int_lens_block_centroids') }}
    where centroid is not null
),

candidates as (
    select
        listed.client_id,
        listed.block_id,
        candidate.neighbour_block_id
    from {{ ref('int_lens_block_candidates') }} as listed
    -- the list may hold more: its beginning is the same on every run
    cross join
        lateral unnest(listed.candidate_ids[1:{{ var('lens_neighbour_candidates') }}]) as candidate (neighbour_block_id)
),

-- materialized: the ranking then sorts ids and distances, not the centroids they came from
distances as materialized (
    select
        candidates.client_id,
        candidates.block_id,
        candidates.neighbour_block_id,
        cosine_distance(block.centroid, neighbour.centroid) as distance
    from candidates
    inner join centroids as block on candidates.block_id = block.block_id
    inner join centroids as neighbour on candidates.neighbour_block_id = neighbour.block_id
),

ranked as (
    select
        client_id,
        block_id,
        neighbour_block_id,
        round(distance::numeric, 4) as distance,
        row_number() over (partition by block_id order by distance, neighbour_block_id)::integer as neighbour_rank
    from distances
)

select * from ranked
where neighbour_rank <= {{ var('lens_neighbours') }}
