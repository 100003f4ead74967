-- The attractor lens's neighbourhood: each block's nearest blocks of the same client by centroid (cosine distance).
-- Exact cosine over every pair would grow with the square of a client's blocks at a full 1536 dimensions; instead
-- each block's candidates are the blocks whose centroid has the closest sign pattern (binary quantization, Hamming
-- distance: a fast, deterministic prefilter), and the candidates are ranked by exact cosine distance.
{{ config(materialized='table') }}
with

-- held in memory once (a copy, not the stored value, so no distance below reads it again from TOAST)
centroids as (
    select
        client_id,
        block_id,
        subvector(centroid, 1, vector_dims(centroid)) as centroid,
        binary_quantize(centroid)::bit(1536) as sign_pattern
    from {{ ref('int_lens_block_centroids') }}
    where centroid is not null
),

-- the narrow rows the candidate search scans once per block
sign_patterns as (
    select
        client_id,
        block_id,
        sign_pattern
    from centroids
),

-- materialized: planned inside the search, the distances would be computed once per scanned row
candidates as materialized (
    select
        block.client_id,
        block.block_id,
        candidate.block_id as neighbour_block_id
    from sign_patterns as block
    cross join lateral (
        select other.block_id
        from sign_patterns as other
        where
            other.client_id = block.client_id  -- never across clients
            and other.block_id <> block.block_id
        order by hamming_distance(block.sign_pattern, other.sign_pattern), other.block_id
        limit {{ var('lens_neighbour_candidates') }}
    ) as candidate
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
