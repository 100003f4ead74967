-- The words of each block's migrated turns and how often each is said, as two parallel arrays (sorted by word),
-- from the text search configuration `lens_words` (made by an on-run-start hook: PostgreSQL's default parser,
-- words only, lower-cased, the stop words of var `lens_text_search_config` dropped while parsing); words shorter
-- than three letters are left out. Kept per block: a run parses only the blocks whose turns changed since
-- (lens_blocks_to_compute) and replaces their rows; a block without a word keeps an empty row.
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

counted as (
    select
        block_turns.block_id,
        words.lexeme as term,
        sum(cardinality(words.positions))::integer as term_count
    from block_turns
    inner join turns on block_turns.turn_id = turns.turn_id
    cross join lateral unnest(to_tsvector({{ lens_text_search_configuration() }}, turns.content)) as words
    where char_length(words.lexeme) between 3 and 40
    group by block_turns.block_id, words.lexeme
),

-- aggregated per block before the join, so the sort by term runs once over the counted words
block_words as (
    select
        block_id,
        array_agg(term order by term) as terms,
        array_agg(term_count order by term) as term_counts,
        sum(term_count)::integer as word_total
    from counted
    group by block_id
),

final as (
    select
        turn_counts.client_id,
        turn_counts.block_id,
        turn_counts.turn_count,
        coalesce(block_words.terms, '{}') as terms,
        coalesce(block_words.term_counts, '{}') as term_counts,
        coalesce(block_words.word_total, 0) as word_total
    from turn_counts
    left join block_words on turn_counts.block_id = block_words.block_id
)

select * from final
