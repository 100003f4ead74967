{#- The genome's figures that get a z-score among the client's blocks (columns of int_lens_block_genomes). -#}
{% macro lens_genome_measures() -%}
    {{ return([
        'turn_count', 'speaker_count', 'speaker_entropy_bits', 'alternation_rate', 'median_length',
        'question_rate', 'comment_count', 'span_seconds', 'median_gap_seconds', 'tree_depth', 'child_count'
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


{#- Where the lenses' text search configuration lives: the intermediate schema, beside the lens tables. -#}
{% macro lens_text_search_schema() -%}
    {{ return('migration_intermediate') }}
{%- endmacro %}


{#- The text search configuration the attractor's terms are parsed with (a regconfig literal). -#}
{% macro lens_text_search_configuration() -%}
    {{ backstage_literal(lens_text_search_schema() ~ '.lens_words') }}::regconfig
{%- endmacro %}


{#-
    On-run-start hook (before any model or unit test reads it): (re)creates the text search configuration `lens_words`:
    the default parser's words (a hyphenated word as its parts; numbers, urls and emails are not terms), lower-cased by
    a `simple` dictionary that drops the stop words of var `lens_text_search_config` (a PostgreSQL stop word file:
    english, french, german, ...). Unlike the language's own configuration it does not stem, so the terms stay words
    a reader knows. Recreated every build, so a changed var takes effect.
-#}
{% macro create_lens_text_search_configuration() -%}
    {%- set schema = adapter.quote(lens_text_search_schema()) -%}
    create schema if not exists {{ schema }};
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


{#- One `<figure>_z` column per figure of the relation: its lens_z_score among the client's blocks. -#}
{% macro lens_z_scores(relation, measures) -%}
    {%- for measure in measures %}
    {{ lens_z_score(relation ~ '.' ~ measure) }} as {{ measure }}_z{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- The genome's `z_scores` object: figure -> z, the figures without a z-score left out. -#}
{% macro lens_z_score_object(relation, measures) -%}
    jsonb_strip_nulls(jsonb_build_object(
        {%- for measure in measures %}
        '{{ measure }}', {{ relation }}.{{ measure }}_z{{ ',' if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}


{#- The genome's `stands_out` list: the figures with |z| >= 2, the largest |z| first (ties by name). -#}
{% macro lens_standing_out(relation, measures) -%}
    coalesce((
        select jsonb_agg(outlier.measure order by abs(outlier.z) desc, outlier.measure)
        from (
            values
            {%- for measure in measures %}
            ('{{ measure }}', {{ relation }}.{{ measure }}_z){{ ',' if not loop.last }}
            {%- endfor %}
        ) as outlier (measure, z)
        where abs(outlier.z) >= 2
    ), '[]'::jsonb)
{%- endmacro %}
