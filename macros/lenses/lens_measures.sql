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


{#-
    The blocks a per-block lens model must (re)compute: on its first build every migrated block with turns; later
    the blocks whose migrated turns changed since the model computed them: a `block_turns` or `turns` row written
    after the block's row here, or a different number of turns (both from int_lens_block_turn_versions, computed
    once per build). Read through lens_block_turns_to_compute. The model keeps the block's turn count in each of its
    rows (`turn_count_column`) and is written by `delete+insert` on `block_id`. A block left without any migrated
    turn yields no row, so its old rows stay (the migration never removes a block's turns).
-#}
{% macro lens_blocks_to_compute(turn_count_column='turn_count') -%}
    select versions.block_id
    from {{ ref('int_lens_block_turn_versions') }} as versions
    {%- if is_incremental() %}
    left join (
        select
            block_id,
            max({{ turn_count_column }}) as turn_count,
            {{ lens_full_xid('min(age(xmin))') }} as computed_xid
        from {{ this }}
        group by block_id
    ) as computed on versions.block_id = computed.block_id
    where
        computed.block_id is null
        or versions.turn_count <> computed.turn_count
        or versions.last_written_xid > computed.computed_xid
    {%- endif %}
{%- endmacro %}


{#-
    A transaction id as a 64-bit number that later transactions can compare (xmin is 32 bits and wraps): the current
    transaction's full id less an `age()` taken in the same statement. A frozen row's age is 2^31 - 1, so it reads
    as older than any live row, which is what it is.
-#}
{% macro lens_full_xid(age) -%}
    (pg_current_xact_id()::text::bigint - {{ age }})
{%- endmacro %}


{#-
    Was this row written by the migration? Its id is in the migration's id map. The lenses describe what the
    migration wrote (rows Cogito adds after cutover are its own lenses' business, and a re-run over an unchanged
    source must not change the lens rows). A semi-join on the map's key, which the planner estimates well; the
    version nibble test (written_by_migration) is estimated at a fraction of a percent, and the plans built on that
    estimate re-ran the vector aggregation once per block.
-#}
{% macro lens_migrated(column) -%}
    {{ column }} in (select migrated.cogito_id from {{ ref('migration_id_map') }} as migrated)
{%- endmacro %}


{#-
    Was this block written by the migration? In the id map, or the client's `unfiled` block (the migration makes it
    for turns whose topic is gone; it has no Backstage row, so no id map entry).
-#}
{% macro lens_migrated_block(column) -%}
    (
        {{ lens_migrated(column) }}
        or {{ column }} in (
            select unfiled.block_id
            from {{ ref('blocks') }} as unfiled
            where unfiled.block_type = 'unfiled' and {{ written_by_migration('unfiled.block_id') }}
        )
    )
{%- endmacro %}


{#-
    Confidence from the amount of evidence: n / (n + k), rounded to 2 decimals (numeric(3,2)). k is the evidence
    at which the confidence reaches one half: 3 turns with k = 10 give 0.23, 90 give 0.90.
-#}
{% macro lens_evidence_confidence(evidence, half_at) -%}
    round({{ evidence }}::numeric / ({{ evidence }} + {{ half_at }}), 2)
{%- endmacro %}


{#-
    The migrated `block_turns` rows of the blocks a per-block lens model must (re)compute (lens_blocks_to_compute),
    as a CTE body: `block_turns as ({{ lens_block_turns_to_compute() }})`.
-#}
{% macro lens_block_turns_to_compute(turn_count_column='turn_count') -%}
    select *
    from {{ ref('block_turns') }}
    where
        block_id in ({{ lens_blocks_to_compute(turn_count_column) }})
        and {{ lens_migrated('turn_id') }}
{%- endmacro %}
