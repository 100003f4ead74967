-- Every Backstage event (the tenants' own and the public log) lands as a participant event, decided once: held
-- without a time; with a stand-in when no client can be known (client NULL) or its person is not a member of its
-- client (participant NULL).
with

tenant_events as (
    select * from {{ ref('stg_backstage__participant_events') }}
),

event_logs as (
    select * from {{ ref('stg_backstage__participant_event_logs') }}
),

events as (
    select * from {{ ref('int_events_unioned') }}
),

-- read from staging, not the reshaped events, so the reconciliation checks the reshaping too
unioned as (
    select
        client_id,
        source_schema,
        'participant_events' as source_table,
        event_id,
        client_id as key_client_id,
        details,
        cast(null as text) as ip_address,
        cast(null as text) as user_agent,
        created_at
    from tenant_events
    union all
    select
        client_id,
        source_schema,
        'participant_event_logs' as source_table,
        event_id,
        -- keyed without the client (see int_events_unioned)
        cast(null as integer) as key_client_id,
        details,
        ip_address,
        user_agent,
        created_at
    from event_logs
),

reasoned as (
    select
        coalesce(events.client_id, unioned.client_id) as client_id,
        'participant_event' as entity,
        unioned.source_schema,
        unioned.source_table,
        cast(unioned.event_id as text) as source_id,
        {{ cogito_table_of('participant_event') }} as cogito_table,
        -- the reshaped event's uuid (an event the reshaping lost has none: the reconciliation reports it missing)
        events.participant_event_id as cogito_id,
        unioned.key_client_id,
        {{ content_hash('participant_event', 'unioned') }} as content_hash,
        jsonb_strip_nulls(jsonb_build_object(
            -- `created_at` is required in Cogito
            'missing_created_at', case
                when events.event_id is not null and events.created_at is null
                    then jsonb_build_object('event_id', events.event_id, 'event_type', events.event_type)
            end,
            -- a public event log row whose schema_id names no client and whose person is in no single client
            'no_event_client', case
                when events.client_id is null and events.created_at is not null
                    then jsonb_build_object(
                            'event_id', events.event_id,
                            'schema_id', events.schema_id,
                            'original_participant_id', events.original_participant_id,
                            'fallback', 'client_id NULL'
                        )
            end,
            -- the event's person is not a member of the event's client: it lands without a participant
            'unknown_event_participant', case
                when
                    events.client_id is not null
                    and events.created_at is not null
                    and events.original_participant_id is not null
                    and events.participant_id is null
                    then jsonb_build_object(
                            'event_id', events.event_id,
                            'original_participant_id', events.original_participant_id,
                            'fallback', 'participant_id NULL'
                        )
            end
        )) as reasons
    from unioned
    left join events
        on
            unioned.source_schema = events.source_schema
            and unioned.source_table = events.source_table
            and unioned.event_id = events.event_id
)

select
    *,
    {{ source_row_decision('participant_event') }}
from reasoned
