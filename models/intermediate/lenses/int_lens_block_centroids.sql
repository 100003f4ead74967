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
    {{ lens_block_turns_to_compute(ref('block_turns'), ref('turns')) }}
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
        content_vector,
        sequence_order,
        ntile(3) over block_order as third,
        count(*) over block_order as vector_count,
        -- summed in sequence order: the same rows give the same float digits
        avg(content_vector) over block_order as centroid
    from vectors
    window block_order as (
        partition by block_id order by sequence_order rows between unbounded preceding and unbounded following
    )
),

movement as (
    select
        block_id,
        vector_count::integer as vector_count,
        (array_agg(centroid))[1] as centroid,
        round(cosine_distance(
            avg(content_vector order by sequence_order) filter (where third = 1),
            avg(content_vector order by sequence_order) filter (where third = 3)
        )::numeric, 4) as drift,
        round(avg(cosine_distance(content_vector, centroid)::numeric) filter (where third = 1), 4)
            as first_third_spread,
        round(avg(cosine_distance(content_vector, centroid)::numeric) filter (where third = 3), 4)
            as last_third_spread
    from thirds
    group by block_id, vector_count
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
