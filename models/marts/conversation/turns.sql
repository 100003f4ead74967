-- Every Backstage turn as a Cogito turn. A re-run reads a turn's text and vector (the heavy part: a 1536-dimension
-- vector each) only when it may have changed: a new turn, a turn whose Backstage row was written after its Cogito
-- row (source_row_version, the row's xmin), one whose speaker or time differs from the target's, or one whose
-- metadata may: a row it is made of (the reshaped turn, its speaker, its placement) was rewritten after the Cogito
-- row (those tables write only changed rows), so the metadata of unchanged turns is not even built.
{%- set light_columns = ['client_id', 'participant_id', 'source_type', 'source_turn_id', 'timestamp'] %}
with

turns as (
    select
        *,
        xmin as turn_version  -- when the row was last written
    from {{ ref('int_turns_unioned') }}
),

speakers as (
    select
        *,
        xmin as speaker_version  -- when the row was last written
    from {{ ref('int_speakers_resolved') }}
),

placements as (
    select
        *,
        xmin as placement_version  -- when the row was last written
    from {{ ref('int_turns_ordered_within_blocks') }}
),

blocks as (
    select * from {{ ref('int_blocks_nested') }}
),

-- what each turn says, read here only (int_turns_unioned keeps no copy of it)
contents as (
    select
        source_schema,
        'grp_topic_avatar_turns' as source_table,
        turn_id,
        content_text,
        content_vector
    from {{ ref('stg_backstage__topic_turns') }}
    union all
    select
        source_schema,
        'grp_con_avatar_turns' as source_table,
        turn_id,
        content_text,
        content_vector
    from {{ ref('stg_backstage__legacy_turns') }}
),

-- everything but the text and the vector
shaped as (
    select
        turns.cogito_turn_id as turn_id,
        turns.client_id,
        speakers.speaker_id as participant_id,
        turns.source_type,
        turns.source_turn_id,
        coalesce(turns.created_at, turns.updated_at, blocks.created_at) as timestamp,
        jsonb_build_object(
            'client_id', turns.client_id,
            'migrated_from', 'backstage',
            'schema_name', turns.source_schema,
            'source_table', turns.source_table,
            'original_turn_id', turns.turn_id,
            'original_topic_id', turns.topic_id,
            'original_topic_index', turns.topic_index,
            'original_grp_con_id', turns.grp_con_id,
            -- as text: numeric 2.50 and 2.5 are equal but Backstage wrote them differently
            'turn_index', cast(turns.turn_index as text),
            'message_type_id', turns.message_type_id,
            'turn_kind_id', turns.turn_kind_id,
            'avatar_id', turns.avatar_id,
            'llm_id', turns.llm_id,
            'participant_id', turns.participant_id,
            'template_topic_id', turns.template_topic_id,
            'original_created_at', turns.created_at,
            'speaker_type', speakers.speaker_type,
            'speaker_resolution', speakers.speaker_resolution,
            'speaker_deleted_in_source', case when speakers.is_speaker_deleted_in_source then true end,
            'block_resolution', placements.block_resolution,
            'content_vector_placeholder', turns.is_placeholder_vector,
            'content_vector_was_zero', turns.is_zero_vector
        ) as metadata,
        turns.source_schema,
        turns.source_table,
        turns.turn_id as source_id,
        turns.source_row_version,
        turns.is_zero_vector,
        turns.turn_version,
        speakers.speaker_version,
        placements.placement_version
    from turns
    inner join speakers
        on
            turns.client_id = speakers.client_id
            and turns.source_table = speakers.source_table
            and turns.turn_id = speakers.turn_id
    inner join placements
        on
            turns.client_id = placements.client_id
            and turns.source_table = placements.source_table
            and turns.turn_id = placements.turn_id
    inner join blocks
        on
            placements.client_id = blocks.client_id
            and placements.block_id = blocks.block_id
),

-- the turns this run may have to write (all of them on the first run). On a re-run, computed on its own first:
-- inlined, the planner (blind to how the three-column joins correlate: it expected 2 rows of a million at scale 50)
-- joined every turn's text and vector before this filter, and a parallel worker ran out of memory.
changed as {% if is_incremental() %}materialized {% endif %}(
    select shaped.*
    from shaped
    {%- if is_incremental() %}
        left join {{ this }} as existing on shaped.turn_id = existing.turn_id
    where
        existing.turn_id is null
        or {{ written_after('shaped.source_row_version', 'existing.xmin') }}
        or {{ written_after('shaped.turn_version', 'existing.xmin') }}
        or {{ written_after('shaped.speaker_version', 'existing.xmin') }}
        or {{ written_after('shaped.placement_version', 'existing.xmin') }}
        or row(existing.{{ light_columns | join(', existing.') }})
        is distinct from row(shaped.{{ light_columns | join(', shaped.') }})
    {%- endif %}
),

final as (
    select
        changed.turn_id,
        changed.client_id,
        changed.participant_id,
        contents.content_text as content,  -- noqa: RF04
        changed.source_type,
        changed.source_turn_id,
        changed.timestamp,
        case when changed.is_zero_vector then null else contents.content_vector end as content_vector,
        changed.metadata
    from changed
    inner join contents
        on
            changed.source_schema = contents.source_schema
            and changed.source_table = contents.source_table
            and changed.source_id = contents.turn_id
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
