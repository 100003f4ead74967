-- The blocks of each client whose genome stands out most (the largest |z| among the client's blocks), with what
-- stands out and the words the block is drawn to. Read from the lens tables; compile with
-- `dbt compile --select blocks_that_stand_out` and run the SQL it writes under target/compiled/.
with

lenses as (
    select * from {{ ref('block_lens_version') }}
),

prototypes as (
    select * from {{ ref('lens_prototypes') }}
),

blocks as (
    select * from {{ ref('blocks') }}
),

results as (
    select
        lenses.client_id,
        lenses.block_id,
        prototypes.name as lens_name,
        lenses.lens_result::jsonb as lens_result
    from lenses
    inner join prototypes on lenses.lens_prototype_id = prototypes.prototype_id
    where lenses.applied_by = 'cogito-migrate'
),

genomes as (
    select
        results.client_id,
        results.block_id,
        results.lens_result -> 'stands_out' as stands_out,
        (
            select max(abs(z.value::numeric))
            from jsonb_each_text(results.lens_result -> 'z_scores') as z
        ) as largest_z
    from results
    where results.lens_name = 'genome'
),

attractors as (
    select
        results.block_id,
        (
            select string_agg(term.value ->> 'term', ', ' order by term.ordinality)
            from jsonb_array_elements(results.lens_result -> 'terms') with ordinality as term
        ) as terms
    from results
    where results.lens_name = 'attractor'
),

ranked as (
    select
        genomes.client_id,
        blocks.name as block_name,
        blocks.metadata ->> 'original_topic_path' as topic_path,
        genomes.largest_z,
        genomes.stands_out,
        attractors.terms,
        row_number() over (
            partition by genomes.client_id order by genomes.largest_z desc, genomes.block_id asc
        ) as rank_in_client
    from genomes
    inner join blocks on genomes.block_id = blocks.block_id
    left join attractors on genomes.block_id = attractors.block_id
    where jsonb_array_length(genomes.stands_out) > 0
)

select * from ranked
where rank_in_client <= 5
order by client_id, rank_in_client
