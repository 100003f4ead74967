-- The words of each block's migrated turns and how often each is said, as two parallel arrays (sorted by word),
-- from the text search configuration `lens_words` (made by an on-run-start hook: PostgreSQL's default parser,
-- words only, lower-cased, the stop words of var `lens_text_search_config` dropped while parsing); words shorter
-- than three letters are left out. Kept per block: a run parses only the blocks whose turns changed since
-- (lens_blocks_to_compute) and replaces their rows; a block without a word keeps an empty row.
{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='block_id', on_schema_change='fail'
) }}
-- depends_on: {{ ref('blocks') }} {{ ref('migration_id_map') }}
{#- A tsvector keeps at most 255 positions of a word and none past 16,383 (PostgreSQL clamps later ones to 16,383):
    a block parsed whole is counted turn by turn instead when its parse reaches either limit (so only a word said
    more than 255 times in one turn is undercounted, as it always was). -#}
{%- set max_positions_per_word = 255 -%}
{%- set last_position = 16383 -%}
{#- Longer texts are not tried whole (a tsvector holds at most 1MB). -#}
{%- set max_whole_text = 60000 -%}
{#- The words kept: three to forty characters. -#}
{%- set kept = 'char_length(words.lexeme) between 3 and 40' %}
with

block_turns as (
    {{ lens_block_turns_to_compute() }}
),

turns as (
    select * from {{ ref('turns') }}
),

turn_texts as (
    select
        block_turns.client_id,
        block_turns.block_id,
        block_turns.sequence_order,
        turns.content,
        -- a '<' never closed: the parser may read it with the next turn's first words as one tag
        coalesce(turns.content ~ '<[^>]*$', false) as opens_a_tag
    from block_turns
    inner join turns on block_turns.turn_id = turns.turn_id
),

block_texts as (
    select
        client_id,
        block_id,
        count(*)::integer as turn_count,
        coalesce(sum(char_length(content)), 0) as text_length,
        bool_or(opens_a_tag) as opens_a_tag,
        -- joined by line breaks: no word spans two turns
        string_agg(content, E'\n' order by sequence_order) as block_text
    from turn_texts
    group by client_id, block_id
),

-- Most blocks are parsed whole: one parse and one list of words per block instead of one per turn, and each
-- word's positions are its count.
blocks as (
    select
        client_id,
        block_id,
        turn_count,
        case
            when text_length <= {{ max_whole_text }} and not opens_a_tag
                then to_tsvector({{ lens_text_search_configuration() }}, block_text)
        end as block_words
    from block_texts
),

-- the blocks counted whole (parsed whole, and no limit reached): their words in the tsvector's own order (bytewise,
-- as `collate "C"` sorts) and their counts, without sorting every (block, word) pair again
whole_blocks as (
    select
        blocks.block_id,
        listed.terms,
        listed.term_counts,
        listed.word_total
    from blocks
    cross join
        lateral (
            select
                array_agg(words.lexeme order by words.entry) filter (where {{ kept }}) as terms,
                array_agg(cardinality(words.positions) order by words.entry) filter (where {{ kept }}) as term_counts,
                sum(cardinality(words.positions)) filter (where {{ kept }}) as word_total,
                coalesce(bool_or(
                    cardinality(words.positions) >= {{ max_positions_per_word }}
                    or words.positions[cardinality(words.positions)] >= {{ last_position }}
                ), false) as reached_a_limit
            from unnest(blocks.block_words) with ordinality as words (lexeme, positions, weights, entry)
        ) as listed
    where blocks.block_words is not null and not listed.reached_a_limit
),

-- the blocks counted turn by turn: not parsed whole, or their parse reached a limit
turn_words as (
    select
        turn_texts.block_id,
        words.lexeme as term,
        sum(cardinality(words.positions))::integer as term_count
    from turn_texts
    cross join lateral unnest(to_tsvector({{ lens_text_search_configuration() }}, turn_texts.content)) as words
    where
        {{ kept }}
        and turn_texts.block_id not in (select whole_blocks.block_id from whole_blocks)
    group by turn_texts.block_id, words.lexeme
),

counted_by_turn as (
    select
        block_id,
        array_agg(term order by term collate "C") as terms,
        array_agg(term_count order by term collate "C") as term_counts,
        sum(term_count) as word_total
    from turn_words
    group by block_id
),

counted as (
    select
        block_id,
        terms,
        term_counts,
        word_total
    from whole_blocks
    union all
    select
        block_id,
        terms,
        term_counts,
        word_total
    from counted_by_turn
),

final as (
    select
        blocks.client_id,
        blocks.block_id,
        blocks.turn_count,
        coalesce(counted.terms, '{}') as terms,
        coalesce(counted.term_counts, '{}') as term_counts,
        coalesce(counted.word_total, 0)::integer as word_total
    from blocks
    left join counted on blocks.block_id = counted.block_id
)

select * from final
