-- Rows that cannot land as they are, with the reason (target spec: quarantined, never dropped or guessed).
-- The quarantine bookkeeping model and the reconciliation read this.
with

people as (
    select * from {{ ref('stg_backstage__participants') }}
),

memberships as (
    select * from {{ ref('int_memberships_derived') }}
),

users as (
    select * from {{ ref('int_users_deduplicated') }}
),

uploads as (
    select * from {{ ref('int_file_uploads_attributed') }}
),

chunks as (
    select * from {{ ref('int_file_chunks_attributed') }}
),

events as (
    select * from {{ ref('int_events_unioned') }}
),

unioned as (
    -- a person with no footprint in any migrated client: no user, no participant
    select
        cast(null as integer) as client_id,
        'user' as entity,
        people.source_schema,
        'participants' as source_table,
        cast(people.participant_id as text) as source_id,
        'no_client_membership' as reason,
        jsonb_build_object('participant_id', people.participant_id) as details
    from people
    where not exists (
            select from memberships
            where memberships.participant_id = people.participant_id
        )
    union all
    -- the younger of two case-duplicate emails in one client loses the login (its participant still migrates)
    select
        client_id,
        'user' as entity,
        'public' as source_schema,
        'participants' as source_table,
        cast(participant_id as text) as source_id,
        'duplicate_email' as reason,
        jsonb_build_object(
            'participant_id', participant_id,
            'schema_name', backstage_schema,
            'login_kept_by_participant_id', duplicate_of_participant_id
        ) as details
    from users
    where not holds_login
    union all
    select
        client_id,
        'file_upload' as entity,
        source_schema,
        source_table,
        cast(upload_id as text) as source_id,
        'unattributable_file' as reason,
        jsonb_build_object('upload_id', upload_id, 'bucket_name', bucket_name) as details
    from uploads
    where not is_attributable
    union all
    select
        client_id,
        'file_upload_vector' as entity,
        source_schema,
        source_table,
        cast(chunk_id as text) as source_id,
        quarantine_reason as reason,
        jsonb_build_object('chunk_id', chunk_id, 'upload_id', upload_id, 'chunk_index', chunk_index) as details
    from chunks
    where quarantine_reason is not null
    union all
    select
        client_id,
        'participant_event' as entity,
        source_schema,
        source_table,
        cast(event_id as text) as source_id,
        'missing_created_at' as reason,
        jsonb_build_object('event_id', event_id) as details
    from events
    where created_at is null
),

final as (
    select * from unioned
)

select * from final
