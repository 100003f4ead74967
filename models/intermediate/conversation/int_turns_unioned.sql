-- Every Backstage turn, both layouts, in one shape: the turn's uuid, where it came from, who and when. A table, not a
-- view: the marts join it several times and each uuid is computed once here. Not what the turn says: its text and
-- vector are read once, by the turns mart, from staging (a copy here would double the run's heaviest write).
-- Incremental: a re-run reshapes only the turns whose Backstage row changed (a new source_row_version, so checking
-- a vector for zeros reads only those vectors) and forgets the turns Backstage deleted.
{{ config(
    materialized='incremental',
    unique_key='cogito_turn_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['source_schema', 'source_table', 'turn_id']}],
    post_hook=["{{ forget_deleted_turns() }}"]
) }}
with

topic_turns as (
    select * from {{ ref('stg_backstage__topic_turns') }}
),

legacy_turns as (
    select * from {{ ref('stg_backstage__legacy_turns') }}
),

unioned as (
    select
        client_id,
        source_schema,
        'grp_topic_avatar_turns' as source_table,
        turn_id,
        'topic' as layout,
        topic_id,
        topic_index,
        cast(null as bigint) as grp_con_id,
        avatar_id,
        participant_id,
        llm_id,
        template_topic_id,
        message_type_id,
        turn_kind_id,
        is_comment,
        turn_index,
        content_vector,
        false as is_placeholder_vector,
        created_at,
        updated_at,
        source_row_version
    from topic_turns
    union all
    select
        client_id,
        source_schema,
        'grp_con_avatar_turns' as source_table,
        turn_id,
        'legacy' as layout,
        cast(null as bigint) as topic_id,
        cast(null as text) as topic_index,
        grp_con_id,
        avatar_id,
        cast(null as bigint) as participant_id,
        cast(null as bigint) as llm_id,
        template_topic_id,
        message_type_id,
        turn_kind_id,
        is_comment,
        turn_index,
        content_vector,
        coalesce(is_placeholder_vector, false) as is_placeholder_vector,
        created_at,
        cast(null as timestamptz) as updated_at,
        source_row_version
    from legacy_turns
),

-- the uuid and the vector check are computed here, above the incremental filter: a re-run computes them, and reads
-- the vectors, for changed turns only
final as (
    select
        client_id,
        source_schema,
        source_table,
        turn_id,
        {{ cogito_uuid_from_parts('client_id', "'turn'", 'source_schema', 'source_table', 'turn_id') }}
            as cogito_turn_id,
        layout,
        topic_id,
        topic_index,
        grp_con_id,
        avatar_id,
        participant_id,
        llm_id,
        template_topic_id,
        message_type_id,
        turn_kind_id,
        is_comment,
        turn_index,
        coalesce({{ backstage_is_zero_vector('content_vector') }}, false) as is_zero_vector,
        is_placeholder_vector,
        created_at,
        updated_at,
        source_row_version,
        source_schema || '.' || source_table || '.' || turn_id as source_turn_id,
        -- who spoke comes from message_type_id; turn kind 3 is a comment (source spec "Data semantics")
        case
            when is_comment then 'comment'
            when message_type_id = 1 then 'human_input'
            when message_type_id = 2 then 'ai_response'
            when turn_kind_id = 2 then 'ai_response'
            else 'human_input'
        end as source_type,
        case
            when is_comment or message_type_id = 1 then 'human'
            when message_type_id = 2 then 'assistant'
            else 'undetermined'
        end as speaker_side
    from unioned
    {%- if is_incremental() %}
        where not exists (
                select from {{ this }} as known
                where
                    known.source_schema = unioned.source_schema
                    and known.source_table = unioned.source_table
                    and known.turn_id = unioned.turn_id
                    and known.client_id is not distinct from unioned.client_id
                    and known.source_row_version = unioned.source_row_version
            )
    {%- endif %}
)

select * from final
