-- The attractor lens's movement: each block's embedding centroid (the mean of its turns' vectors), the centroids of
-- its first and last thirds (by sequence order) and how far apart they are (cosine distance: drift), and how
-- tightly the first and last thirds gather around the block's centroid (mean cosine distance: spread). A last third
-- closer around the centroid than the first converges on its subject. Legacy placeholder vectors and turns without
-- a vector do not count (a block without a real vector has vector_count 0). Kept per block: a run reads the vectors
-- of the blocks whose turns changed since (lens_blocks_to_compute) and replaces their rows.
{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='block_id', on_schema_change='fail'
) }}
-- depends_on: {{ ref('blocks') }} {{ ref('migration_id_map') }}
with

block_turns as (
    {{ lens_block_turns_to_compute() }}
),

turns as (
    select * from {{ ref('turns') }}
),

turn_counts as (
    select
        client_id,
        block_id,
        count(*)::integer as turn_count
    from block_turns
    group by client_id, block_id
),

vectors as (
    select
        block_turns.block_id,
        block_turns.sequence_order,
        turns.content_vector
    from block_turns
    inner join turns on block_turns.turn_id = turns.turn_id
    where
        turns.content_vector is not null
        and not coalesce((turns.metadata ->> 'content_vector_placeholder')::boolean, false)
),

thirds as (
    select
        block_id,
        sequence_order,
        content_vector,
        ntile(3) over (partition by block_id order by sequence_order) as third
    from vectors
),

-- One pass over the vectors. Sums, not averages: pgvector's sum adds in place where avg builds a new array per row
-- (twice the time), and cosine distances do not depend on scale. In sequence order: the same rows give the same
-- float digits. A third's mean cosine distance to the centroid c is 1 - (sum of its unit vectors) . c / (n |c|),
-- so the spreads need no second pass.
sums as (
    select
        block_id,
        count(*)::integer as vector_count,
        count(*) filter (where third = 1) as first_third_count,
        count(*) filter (where third = 3) as last_third_count,
        sum(content_vector order by sequence_order) as vector_sum,
        sum(content_vector order by sequence_order) filter (where third = 1) as first_third_sum,
        sum(content_vector order by sequence_order) filter (where third = 3) as last_third_sum,
        sum(l2_normalize(content_vector) order by sequence_order) filter (where third = 1) as first_third_directions,
        sum(l2_normalize(content_vector) order by sequence_order) filter (where third = 3) as last_third_directions
    from thirds
    group by block_id
),

centroids as (
    select
        *,
        -- the mean: the sum scaled by 1 / n (pgvector multiplies element by element)
        vector_sum * array_fill((1.0 / vector_count)::real, array[vector_dims(vector_sum)])::vector as centroid
    from sums
),

movement as (
    select
        block_id,
        vector_count,
        centroid,
        round(cosine_distance(first_third_sum, last_third_sum)::numeric, 4) as drift,
        round((
            1 - inner_product(first_third_directions, centroid)
            / nullif(first_third_count * vector_norm(centroid), 0)
        )::numeric, 4) as first_third_spread,
        round((
            1 - inner_product(last_third_directions, centroid)
            / nullif(last_third_count * vector_norm(centroid), 0)
        )::numeric, 4) as last_third_spread
    from centroids
),

final as (
    select
        turn_counts.client_id,
        turn_counts.block_id,
        turn_counts.turn_count,
        coalesce(movement.vector_count, 0) as vector_count,
        movement.centroid,
        movement.drift,
        movement.first_third_spread,
        movement.last_third_spread
    from turn_counts
    left join movement on turn_counts.block_id = movement.block_id
)

select * from final
