-- Insights across each client's conversations, one row per (client, insight): recurring_themes (the words that
-- are among the distinctive terms of the most blocks) and central_blocks (the blocks most often among other blocks'
-- nearest by centroid: the conversations many others resemble, from the nearest-block graph). Every figure is taken
-- within one client. Confidence = blocks / (blocks + 10) for the blocks the insight rests on.
{{ config(materialized='table') }}
with

terms as (
    select * from {{ ref('int_lens_block_terms') }}
),

neighbours as (
    select * from {{ ref('int_lens_block_neighbours') }}
),

genomes as (
    select * from {{ ref('int_lens_block_genomes') }}
),

blocks as (
    select * from {{ ref('blocks') }}
),

client_times as (
    select
        client_id,
        max(last_turn_at) as last_turn_at
    from genomes
    group by client_id
),

theme_counts as (
    select
        client_id,
        term,
        count(*)::integer as block_count,
        sum(tf_idf) as total_weight
    from terms
    group by client_id, term
),

themed_blocks as (
    select
        client_id,
        count(distinct block_id)::integer as block_count
    from terms
    group by client_id
),

themes as (
    select
        ranked.client_id,
        jsonb_agg(
            jsonb_build_object(
                'term', ranked.term,
                'blocks', ranked.block_count,
                'share', round(ranked.block_count::numeric / themed_blocks.block_count, 3)
            )
            order by ranked.theme_rank
        ) as theme_list
    from (
        select
            *,
            row_number() over (partition by client_id order by block_count desc, total_weight desc, term asc)
                as theme_rank
        from theme_counts
    ) as ranked
    inner join themed_blocks on ranked.client_id = themed_blocks.client_id
    where ranked.theme_rank <= 10
    group by ranked.client_id
),

in_degrees as (
    select
        neighbours.client_id,
        neighbours.neighbour_block_id as block_id,
        count(*)::integer as named_by
    from neighbours
    group by neighbours.client_id, neighbours.neighbour_block_id
),

graph as (
    select
        client_id,
        count(distinct block_id)::integer as block_count,
        count(*)::integer as edge_count,
        (count(*) filter (where exists (
            select
            from neighbours as back
            where back.block_id = neighbours.neighbour_block_id and back.neighbour_block_id = neighbours.block_id
        )) / 2)::integer as mutual_pairs
    from neighbours
    group by client_id
),

central as (
    select
        client_id,
        jsonb_agg(
            jsonb_build_object('block_id', block_id, 'name', block_name, 'named_by', named_by) order by central_rank
        ) as central_list
    from (
        select
            in_degrees.*,
            blocks.name as block_name,
            row_number() over (
                partition by in_degrees.client_id order by in_degrees.named_by desc, in_degrees.block_id asc
            ) as central_rank
        from in_degrees
        inner join blocks on in_degrees.block_id = blocks.block_id
    ) as ranked
    where central_rank <= 5
    group by client_id
),

insights as (
    select
        themed_blocks.client_id,
        'recurring_themes' as pattern_name,
        {{ lens_evidence_confidence('themed_blocks.block_count', 10) }} as confidence_score,
        jsonb_build_object('blocks', themed_blocks.block_count, 'themes', themes.theme_list) as pattern_data,
        format(
            'the words among the distinctive terms of the most of the client''s %s blocks with terms; '
            || 'confidence = blocks / (blocks + 10)',
            themed_blocks.block_count
        ) as reasoning,
        client_times.last_turn_at as detected_at
    from themed_blocks
    inner join themes on themed_blocks.client_id = themes.client_id
    inner join client_times on themed_blocks.client_id = client_times.client_id
    union all
    select
        graph.client_id,
        'central_blocks' as pattern_name,
        {{ lens_evidence_confidence('graph.block_count', 10) }} as confidence_score,
        jsonb_build_object(
            'blocks', graph.block_count,
            'edges', graph.edge_count,
            'mutual_pairs', graph.mutual_pairs,
            'central', central.central_list
        ) as pattern_data,
        format(
            'the blocks most often among the %s nearest blocks of the client''s %s blocks with vectors; '
            || 'confidence = blocks / (blocks + 10)',
            {{ var('lens_neighbours') }}, graph.block_count
        ) as reasoning,
        client_times.last_turn_at as detected_at
    from graph
    inner join central on graph.client_id = central.client_id
    inner join client_times on graph.client_id = client_times.client_id
)

select * from insights
