{#- The genome's figures that get a z-score among the client's blocks (columns of int_lens_block_genomes). -#}
{% macro lens_genome_measures() -%}
    {{ return([
        'turn_count', 'speaker_count', 'speaker_entropy_bits', 'alternation_rate', 'median_length',
        'question_rate', 'comment_count', 'span_seconds', 'median_gap_seconds', 'depth', 'child_count'
    ]) }}
{%- endmacro %}


{#-
    How many standard deviations a block's figure lies from the mean of the same client's blocks (NULL when the
    figure is NULL or every block of the client has the same value). In numeric, rounded to 2 decimals: the same
    rows give the same digits whatever order the aggregate reads them in.
-#}
{% macro lens_z_score(expression, partition='client_id') -%}
    round(
        ({{ expression }}::numeric - avg({{ expression }}::numeric) over (partition by {{ partition }}))
        / nullif(stddev_pop({{ expression }}::numeric) over (partition by {{ partition }}), 0),
        2
    )
{%- endmacro %}


{#- The text search configuration the attractor's terms are parsed with (a regconfig literal). -#}
{% macro lens_text_search_configuration() -%}
    {{ backstage_literal(this.schema ~ '.lens_words') }}::regconfig
{%- endmacro %}


{#-
    Pre-hook of int_lens_block_terms: (re)creates the text search configuration `lens_words` in the model's schema:
    the default parser's words (a hyphenated word as its parts; numbers, urls and emails are not terms), lower-cased by a
    `simple` dictionary that drops the stop words of var `lens_text_search_config` (a PostgreSQL stop word file:
    english, french, german, ...). Unlike the language's own configuration it does not stem, so the terms stay
    words a reader knows. Recreated every build, so a changed var takes effect.
-#}
{% macro create_lens_text_search_configuration() -%}
    {%- set schema = adapter.quote(this.schema) -%}
    drop text search configuration if exists {{ schema }}.lens_words;
    drop text search dictionary if exists {{ schema }}.lens_words_dictionary;
    create text search dictionary {{ schema }}.lens_words_dictionary (
        template = pg_catalog.simple, stopwords = {{ var('lens_text_search_config') }}
    );
    create text search configuration {{ schema }}.lens_words (parser = pg_catalog.default);
    alter text search configuration {{ schema }}.lens_words
        add mapping for asciiword, word, hword_asciipart, hword_part
        with {{ schema }}.lens_words_dictionary;
{%- endmacro %}
