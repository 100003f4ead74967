-- Cogito `conversation.detected_patterns`: each participant's patterns (context_scope `participant`) and each
-- client's insights across its conversations (context_scope `client`), computed in the warehouse from the migrated
-- conversations. `detected_at` is the time of the newest turn the pattern read, so the same turns give the same
-- row. Rows Cogito writes itself (its own detections, random ids) are never touched: the merge only updates its keys.
with

patterns as (
    {{ pattern_catalogue_rows() }}
),

participant_patterns as (
    select * from {{ ref('int_lens_participant_patterns') }}
),

client_insights as (
    select * from {{ ref('int_lens_client_insights') }}
),

detected as (
    select
        client_id,
        participant_id,
        participant_id::text as subject,
        'participant' as context_scope,
        pattern_name,
        confidence_score,
        pattern_data,
        reasoning,
        detected_at
    from participant_patterns
    union all
    select
        client_id,
        null::uuid as participant_id,
        'client' as subject,
        'client' as context_scope,
        pattern_name,
        confidence_score,
        pattern_data,
        reasoning,
        detected_at
    from client_insights
),

final as (
    select
        {{ detected_pattern_uuid(
            'detected.client_id', 'detected.subject', 'detected.pattern_name', 'patterns.version'
        ) }} as id,
        detected.client_id,
        {{ pattern_type_uuid('patterns.name') }} as pattern_type_id,
        null::uuid as block_id,
        detected.participant_id,
        detected.confidence_score::numeric(3, 2) as confidence_score,
        detected.pattern_data,
        detected.reasoning,
        detected.context_scope,
        detected.detected_at
    from detected
    inner join patterns on detected.pattern_name = patterns.name
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
