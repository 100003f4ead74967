-- Cogito `conversation.block_lens_version`: the genome and attractor lenses applied to every block, one row per
-- (block, lens, version); `lens_result` is the JSON document the application reads, `lens_embedding` the block's
-- centroid (attractor). `created_at` is the time of the newest turn the lens read, so the same turns give the same
-- row. Rows Cogito writes itself (its own lens runs, random ids) are never touched: the merge only updates its keys.
with

lenses as (
    {{ lens_catalogue_rows() }}
),

blocks as (
    select * from {{ ref('blocks') }}
),

genomes as (
    select * from {{ ref('int_lens_block_genomes') }}
),

terms as (
    select * from {{ ref('int_lens_block_terms') }}
),

centroids as (
    select * from {{ ref('int_lens_block_centroids') }}
),

neighbours as (
    select * from {{ ref('int_lens_block_neighbours') }}
),

genome_results as (
    select
        genomes.client_id,
        genomes.block_id,
        'genome' as lens_name,
        genomes.last_turn_at as lens_as_of,
        jsonb_build_object(
            'lens', 'genome',
            'turns', jsonb_build_object(
                'total', genomes.turn_count,
                'human_input', genomes.human_input_count,
                'ai_response', genomes.ai_response_count,
                'comment', genomes.comment_count
            ),
            'speakers', jsonb_build_object(
                'count', genomes.speaker_count,
                'entropy_bits', genomes.speaker_entropy_bits,
                'turns', coalesce(genomes.speaker_turns, '[]'::jsonb)
            ),
            'alternation_rate', genomes.alternation_rate,
            'opened_by', genomes.opened_by,
            'closed_by', genomes.closed_by,
            'turn_length', jsonb_build_object(
                'mean', genomes.mean_length,
                'median', round(genomes.median_length::numeric, 1),
                'p90', round(genomes.p90_length::numeric, 1)
            ),
            'question_rate', genomes.question_rate,
            'time', jsonb_build_object(
                'first_turn_at', genomes.first_turn_at,
                'last_turn_at', genomes.last_turn_at,
                'span_seconds', round(genomes.span_seconds::numeric, 0),
                'median_gap_seconds', round(genomes.median_gap_seconds::numeric, 0),
                'p90_gap_seconds', round(genomes.p90_gap_seconds::numeric, 0)
            ),
            'tree', jsonb_build_object('depth', genomes.tree_depth, 'children', genomes.child_count),
            'z_scores', {{ lens_z_score_object('genomes', lens_genome_measures()) }},
            'stands_out', {{ lens_standing_out('genomes', lens_genome_measures()) }}
        ) as lens_result,
        null::vector(1536) as lens_embedding
    from genomes
),

block_terms as (
    select
        block_id,
        jsonb_agg(
            jsonb_build_object('term', term, 'count', term_count, 'blocks_using', block_frequency, 'tf_idf', tf_idf)
            order by term_rank
        ) as term_list
    from terms
    group by block_id
),

block_neighbours as (
    select
        neighbours.block_id,
        jsonb_agg(
            jsonb_build_object(
                'block_id', neighbours.neighbour_block_id, 'name', blocks.name,
                'distance', neighbours.distance
            )
            order by neighbours.neighbour_rank
        ) as neighbour_list
    from neighbours
    inner join blocks on neighbours.neighbour_block_id = blocks.block_id
    group by neighbours.block_id
),

attractor_results as (
    select
        genomes.client_id,
        genomes.block_id,
        'attractor' as lens_name,
        genomes.last_turn_at as lens_as_of,
        jsonb_build_object(
            'lens', 'attractor',
            'terms', coalesce(block_terms.term_list, '[]'::jsonb),
            'vectors', coalesce(centroids.vector_count, 0),
            'drift', centroids.drift,
            'first_third_spread', centroids.first_third_spread,
            'last_third_spread', centroids.last_third_spread,
            'movement', case
                when centroids.last_third_spread is null then 'too few vectors'
                when centroids.last_third_spread < centroids.first_third_spread - 0.01 then 'converging'
                when centroids.last_third_spread > centroids.first_third_spread + 0.01 then 'diverging'
                else 'steady'
            end,
            'nearest_blocks', coalesce(block_neighbours.neighbour_list, '[]'::jsonb)
        ) as lens_result,
        (centroids.centroid)::vector(1536) as lens_embedding
    from genomes
    left join block_terms on genomes.block_id = block_terms.block_id
    left join centroids on genomes.block_id = centroids.block_id
    left join block_neighbours on genomes.block_id = block_neighbours.block_id
),

applied as (
    select * from genome_results
    union all
    select * from attractor_results
),

final as (
    select
        {{ block_lens_uuid('applied.client_id', 'applied.block_id', 'applied.lens_name', 'lenses.version') }} as id,
        applied.client_id,
        applied.block_id,
        {{ lens_prototype_uuid('lenses.name') }} as lens_prototype_id,
        lenses.base_prompt as applied_prompt,
        applied.lens_result::text as lens_result,
        applied.lens_embedding,
        coalesce(applied.lens_as_of, blocks.created_at) as created_at,
        'cogito-migrate' as applied_by,
        null::text as notes
    from applied
    inner join lenses on applied.lens_name = lenses.name
    inner join blocks on applied.block_id = blocks.block_id
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
