{#-
    The computed lenses: name, what the lens shows, and its method in words with its version (Cogito's
    `base_prompt`; a computed lens has no LLM prompt). A new version of a method is a new `version` here: the
    lens rows it writes get new ids, the old ones stay as they were.
-#}
{% macro lens_catalogue() -%}
    {{ return({
        'genome': {
            'version': 1,
            'description': "A block's structure: who speaks and how much, how human and AI turns alternate, who opens"
                ~ " and closes, how long turns are, how often they ask, how fast they follow each other, where the"
                ~ " block sits in the topic tree, and which of these stand out among the client's blocks (z-scores).",
            'method': "Computed in the warehouse from the block's turns (no model call). Counts by source type;"
                ~ " speaker entropy in bits over the speakers' turn shares; alternation rate = share of consecutive"
                ~ " non-comment turns whose source type changes; turn length in characters (mean, median, p90);"
                ~ " question rate = share of turns containing '?'; gaps = seconds between consecutive turns in block"
                ~ " order (median, p90); depth (1 = no parent) and child count in the block tree; each figure's"
                ~ " z-score against the same client's blocks; |z| >= 2 stands out.",
        },
        'attractor': {
            'version': 1,
            'description': "What a block is drawn to and how it moves: its distinctive recurring terms against the"
                ~ " client's other blocks, whether its embedding converges or drifts from its first third to its last,"
                ~ " and its nearest blocks of the same client.",
            'method': "Computed in the warehouse (no model call). Terms: words of PostgreSQL's default parser,"
                ~ " lower-cased, not stemmed, stop words of the configured language removed, said at least twice in"
                ~ " the block and not in every block of the client, ranked by tf-idf over the same client's blocks."
                ~ " Movement: centroid of the block's real turn vectors (legacy"
                ~ " placeholders excluded); drift = cosine distance between the first and last thirds' centroids;"
                ~ " spread = mean cosine distance of a third's vectors to the block centroid; converging when the last"
                ~ " third's spread is smaller than the first's by more than 0.01, diverging when larger by more"
                ~ " than 0.01, else steady. Neighbours: nearest centroids of the same client by cosine distance among"
                ~ " the candidates closest in binary-quantized (sign) pattern.",
        },
    }) }}
{%- endmacro %}


{#- The catalogue as SQL rows: name, version, description, base_prompt. -#}
{% macro lens_catalogue_rows() -%}
    {%- set catalogue = lens_catalogue() -%}
    select *
    from (
        values
        {%- for name, lens in catalogue.items() %}
        (
            {{ backstage_literal(name) }},
            {{ lens.version }},
            {{ backstage_literal(lens.description) }},
            {{ backstage_literal(name ~ ' v' ~ lens.version ~ ': ' ~ lens.method) }}
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as lenses (name, version, description, base_prompt)
{%- endmacro %}


{#- A lens of the catalogue (shared by all clients: no client in its key). Python twin: ids.lens_prototype_uuid. -#}
{% macro lens_prototype_uuid(name) -%}
    {{ cogito_uuid('null', 'lens_prototype', "'cogito'", 'lens_prototypes', name) }}
{%- endmacro %}


{#-
    One lens version applied to one block: keyed by the block, the lens and its version, so a re-run finds the same
    row and a new method version writes a new one. Python twin: ids.block_lens_uuid.
-#}
{% macro block_lens_uuid(client_id, block_id, lens_name, version) -%}
    {{ cogito_uuid(client_id, 'block_lens_version', "'conversation'", 'blocks',
        block_id ~ "::text || '/' || " ~ lens_name ~ " || '/v' || " ~ version) }}
{%- endmacro %}


{#-
    The patterns the project detects: name -> display name, scope, what it shows, and how it is detected (Cogito's
    `detection_instructions`; here the method in words) with its version.
-#}
{% macro pattern_catalogue() -%}
    {{ return({
        'activity_rhythm': {
            'display_name': 'Activity and rhythm', 'scope': 'participant', 'version': 1,
            'description': "How much a participant speaks, how regularly, and at which hours (UTC).",
            'method': "Turns, blocks, active days and weeks from the participant's migrated turns; regularity ="
                ~ " active weeks / weeks from the first to the last turn; the three hours with most turns."
                ~ " Confidence = active days / (active days + 5).",
        },
        'conversational_role': {
            'display_name': 'Conversational role', 'scope': 'participant', 'version': 1,
            'description': "Whether a participant opens conversations or answers, how often they ask, how long they speak.",
            'method': "Opening share = blocks whose first turn is theirs / blocks they speak in; answering share ="
                ~ " turns that follow another speaker's / their turns; question rate = turns with '?' / turns;"
                ~ " median and p90 length in characters; role initiator (opening share >= 0.5), responder"
                ~ " (answering share >= 0.5) or participant. Confidence = turns / (turns + 10).",
        },
        'recurring_terms': {
            'display_name': 'Recurring terms', 'scope': 'participant', 'version': 1,
            'description': "The distinctive words of the conversations a participant takes part in.",
            'method': "The attractor lens's terms of each block they speak in, weighed by their share of the"
                ~ " block's turns and summed; the five heaviest. Confidence = blocks / (blocks + 3).",
        },
        'shaped_blocks': {
            'display_name': 'Blocks they shape', 'scope': 'participant', 'version': 1,
            'description': "The conversations where a participant has the largest share of the turns.",
            'method': "Per block, their turns / the block's turns; the three largest shares."
                ~ " Confidence = turns / (turns + 10).",
        },
        'recurring_themes': {
            'display_name': 'Recurring themes', 'scope': 'client', 'version': 1,
            'description': "The themes that recur across a client's conversations.",
            'method': "The words among the attractor lens's distinctive terms of the most blocks of the client; the"
                ~ " ten most frequent, with their share of the blocks. Confidence = blocks / (blocks + 10).",
        },
        'central_blocks': {
            'display_name': 'Central conversations', 'scope': 'client', 'version': 1,
            'description': "The conversations many others of the client resemble, from the nearest-block graph.",
            'method': "The blocks most often among other blocks' nearest blocks by centroid (the attractor lens's"
                ~ " neighbours), with the graph's size and its mutual pairs. Confidence = blocks / (blocks + 10).",
        },
    }) }}
{%- endmacro %}


{#- The pattern catalogue as SQL rows: name, display_name, scope, version, description, detection_instructions. -#}
{% macro pattern_catalogue_rows() -%}
    select *
    from (
        values
        {%- for name, pattern in pattern_catalogue().items() %}
        (
            {{ backstage_literal(name) }},
            {{ backstage_literal(pattern.display_name) }},
            {{ backstage_literal(pattern.scope) }},
            {{ pattern.version }},
            {{ backstage_literal(pattern.description) }},
            {{ backstage_literal(name ~ ' v' ~ pattern.version ~ ': ' ~ pattern.method) }}
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ) as patterns (name, display_name, scope, version, description, detection_instructions)
{%- endmacro %}


{#- A pattern type of the catalogue (shared by all clients). Python twin: ids.pattern_type_uuid. -#}
{% macro pattern_type_uuid(name) -%}
    {{ cogito_uuid('null', 'pattern_type', "'cogito'", 'pattern_types', name) }}
{%- endmacro %}


{#-
    One detected pattern: keyed by its subject (the participant, or the client itself), the pattern and its version.
    Python twin: ids.detected_pattern_uuid.
-#}
{% macro detected_pattern_uuid(client_id, subject, pattern_name, version) -%}
    {{ cogito_uuid(client_id, 'detected_pattern', "'conversation'", 'patterns',
        subject ~ " || '/' || " ~ pattern_name ~ " || '/v' || " ~ version) }}
{%- endmacro %}
