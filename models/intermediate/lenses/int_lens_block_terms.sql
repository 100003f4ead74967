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
        words.word_total,
        said.term,
        said.term_count
    from words
    cross join lateral unnest(words.terms, words.term_counts) as said (term, term_count)
),

client_blocks as (
    select
        client_id,
        count(*) as client_block_count
    from words
    where word_total > 0
    group by client_id
),

-- how many of the client's blocks say each word, and its inverse document frequency (a numeric logarithm, taken
-- once per word rather than once per block that says it; materialized, so the planner does not fold it into
-- the join below and take it per row again)
block_frequencies as materialized (
    select
        said.client_id,
        said.term,
        said.block_frequency,
        client_blocks.client_block_count,
        ln(client_blocks.client_block_count::numeric / said.block_frequency) as inverse_block_frequency
    from (
        select
            client_id,
            term,
            count(*) as block_frequency
        from counted
        group by client_id, term
    ) as said
    inner join client_blocks on said.client_id = client_blocks.client_id
),

scored as (
    select
        counted.client_id,
        counted.block_id,
        counted.term,
        counted.term_count,
        block_frequencies.block_frequency::integer as block_frequency,
        round((counted.term_count::numeric / counted.word_total) * block_frequencies.inverse_block_frequency, 6)
            as tf_idf
    from counted
    inner join block_frequencies
        on counted.client_id = block_frequencies.client_id and counted.term = block_frequencies.term
    -- recurring (a word said once is not what the block is drawn to), and not in every block of the client
    where counted.term_count >= 2 and block_frequencies.block_frequency < block_frequencies.client_block_count
),

ranked as (
    select
        *,
        row_number() over (partition by block_id order by tf_idf desc, term_count desc, term asc)::integer as term_rank
    from scored
)

select * from ranked
where term_rank <= {{ var('lens_attractor_terms') }}
