-- The attractor lens's words: each block's most distinctive recurring terms, tf-idf weighed against the same
-- client's blocks only (a word every block of the client uses weighs nothing; another client's words never count).
-- From the per-block word counts (int_lens_block_words): the weights depend on every block of the client, so they are
-- computed for all blocks at once; only the top terms of each block are kept.
{{ config(materialized='table') }}
with

words as (
    select * from {{ ref('int_lens_block_words') }}
),

counted as (
    select
        words.client_id,
        words.block_id,
        said.term,
        said.term_count
    from words
    cross join lateral unnest(words.terms, words.term_counts) as said (term, term_count)
),

client_blocks as (
    select
        client_id,
        count(distinct block_id) as client_block_count
    from counted
    group by client_id
),

weighed as (
    select
        counted.client_id,
        counted.block_id,
        counted.term,
        counted.term_count,
        client_blocks.client_block_count,
        sum(counted.term_count) over (partition by counted.block_id) as block_term_total,
        count(*) over (partition by counted.client_id, counted.term) as block_frequency
    from counted
    inner join client_blocks on counted.client_id = client_blocks.client_id
),

scored as (
    select
        client_id,
        block_id,
        term,
        term_count,
        block_frequency::integer as block_frequency,
        round(
            (term_count::numeric / block_term_total) * ln(client_block_count::numeric / block_frequency), 6
        ) as tf_idf
    from weighed
    -- recurring (a word said once is not what the block is drawn to), and not in every block of the client
    where term_count >= 2 and block_frequency < client_block_count
),

ranked as (
    select
        *,
        row_number() over (partition by block_id order by tf_idf desc, term_count desc, term asc)::integer as term_rank
    from scored
)

select * from ranked
where term_rank <= {{ var('lens_attractor_terms') }}
