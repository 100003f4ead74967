-- The attractor lens's neighbourhood: each block's nearest blocks of the same client by centroid (cosine distance).
-- Exact cosine over every pair would grow with the square of a client's blocks at a full 1536 dimensions; instead
-- each block's candidates are the blocks whose centroid has the closest sign pattern (binary quantization, Hamming
-- distance: a fast, deterministic prefilter), and the candidates are ranked by exact cosine distance.
{{ config(materialized='table') }}
with

centroids as (
    select
        client_id,
        block_id,
        centroid,
        binary_quantize(centroid)::bit(1536) as sign_pattern
    from {{ ref('int_lens_block_centroids') }}
    where centroid is not null
),

candidates as (
    select
        block.client_id,
        block.block_id,
        candidate.block_id as neighbour_block_id,
        cosine_distance(block.centroid, candidate.centroid) as distance
    from centroids as block
    cross join lateral (
        select
            other.block_id,
            other.centroid
        from centroids as other
        where
            other.client_id = block.client_id  -- never across clients
            and other.block_id <> block.block_id
        order by hamming_distance(block.sign_pattern, other.sign_pattern), other.block_id
        limit {{ var('lens_neighbour_candidates') }}
    ) as candidate
),

ranked as (
    select
        client_id,
        block_id,
        neighbour_block_id,
        round(distance::numeric, 4) as distance,
        row_number() over (partition by block_id order by distance, neighbour_block_id)::integer as neighbour_rank
    from candidates
)

select * from ranked
where neighbour_rank <= {{ var('lens_neighbours') }}
