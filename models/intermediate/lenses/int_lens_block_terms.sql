-- The attractor lens's words: each block's most distinctive recurring terms, tf-idf weighed against the same
-- client's blocks only (a word every block of the client uses weighs nothing; another client's words never count).
-- Words come from the text search configuration `lens_words` (made by an on-run-start hook: PostgreSQL's default
-- parser, words only, lower-cased, the stop words of var `lens_text_search_config` dropped while parsing); words
-- shorter than three letters are left out. Only the top terms of each block are kept.
{{ config(materialized='table') }}
with

turns as (
    select * from {{ ref('turns') }}
),

-- what the migration wrote: turns Cogito adds after cutover are its own lenses' business, and a re-run over an
-- unchanged source must not change these rows
block_turns as (
    select * from {{ ref('block_turns') }}
    where {{ written_by_migration('turn_id') }} and {{ written_by_migration('block_id') }}
),

counted as (
    select
        block_turns.client_id,
        block_turns.block_id,
        words.lexeme as term,
        sum(cardinality(words.positions))::integer as term_count
    from block_turns
    inner join turns on block_turns.turn_id = turns.turn_id
    cross join lateral unnest(to_tsvector({{ lens_text_search_configuration() }}, turns.content)) as words
    where char_length(words.lexeme) between 3 and 40
    group by block_turns.client_id, block_turns.block_id, words.lexeme
),

kept as (
    select * from counted
),

client_blocks as (
    select
        client_id,
        count(distinct block_id) as client_block_count
    from kept
    group by client_id
),

weighed as (
    select
        kept.client_id,
        kept.block_id,
        kept.term,
        kept.term_count,
        sum(kept.term_count) over (partition by kept.block_id) as block_term_total,
        count(*) over (partition by kept.client_id, kept.term) as block_frequency,
        client_blocks.client_block_count
    from kept
    inner join client_blocks on kept.client_id = client_blocks.client_id
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
