with

events as (
    select * from {{ ref('int_events_unioned') }}
),

final as (
    select
        participant_event_id as id,
        client_id,
        participant_id,
        event_type,
        details,
        ip_address,
        user_agent,
        created_at,
        jsonb_build_object(
            'client_id', client_id,
            'migrated_from', 'backstage',
            'schema_name', source_schema,
            'source_table', source_table,
            'original_event_id', event_id,
            'original_participant_id', original_participant_id,
            'event_type_id', event_type_id,
            'description', description,
            'original_schema_id', schema_id,
            'client_resolution', client_resolution
        ) as metadata
    from events
    -- the events held back (no time) are decided in int_source_rows_participant_events
    where participant_event_id in ({{ written_source_rows('participant_event') }})
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
