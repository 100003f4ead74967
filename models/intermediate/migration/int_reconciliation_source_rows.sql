-- Every Backstage row the migration answers for, one per (client, entity, source row), read from staging, with
-- the Cogito row it should have become (its deterministic uuid, found again by the reconciliation) and, for
-- turns, chunks and events, the hash of its content. A row the reshaping lost keeps its staging client and no uuid.
with

people as (
    select * from {{ ref('stg_backstage__participants') }}
),

users as (
    select * from {{ ref('int_users_deduplicated') }}
),

avatars as (
    select * from {{ ref('stg_backstage__avatars') }}
),

participants as (
    select * from {{ ref('int_participants_unioned') }}
),

topics as (
    select * from {{ ref('stg_backstage__topics') }}
),

conversations as (
    select * from {{ ref('stg_backstage__legacy_conversations') }}
),

topic_turns as (
    select * from {{ ref('stg_backstage__topic_turns') }}
),

legacy_turns as (
    select * from {{ ref('stg_backstage__legacy_turns') }}
),

file_uploads as (
    select * from {{ ref('stg_backstage__file_uploads') }}
),

legacy_uploads as (
    select * from {{ ref('stg_backstage__legacy_uploads') }}
),

uploads_attributed as (
    select * from {{ ref('int_file_uploads_attributed') }}
),

file_chunks as (
    select * from {{ ref('stg_backstage__file_upload_vectors') }}
),

legacy_chunks as (
    select * from {{ ref('stg_backstage__legacy_upload_vectors') }}
),

chunks_attributed as (
    select * from {{ ref('int_file_chunks_attributed') }}
),

tenant_events as (
    select * from {{ ref('stg_backstage__participant_events') }}
),

event_logs as (
    select * from {{ ref('stg_backstage__participant_event_logs') }}
),

events_unioned as (
    select * from {{ ref('int_events_unioned') }}
),

-- a person is one row per client they belong to (a login, or for a duplicate email the participant only),
-- or one row without a client when they belong to none
user_rows as (
    select
        users.client_id,
        'user' as entity,
        people.source_schema,
        'participants' as source_table,
        cast(people.participant_id as text) as source_id,
        case
            when users.holds_login then 'client_mgmt.users'
            when users.participant_id is not null then 'conversation.participants'
        end as cogito_table,
        case when users.holds_login then users.user_id else users.human_participant_id end as cogito_id,
        cast(null as text) as content_hash
    from people
    left join users on people.participant_id = users.participant_id
),

-- humans per membership, tenant avatars, and the LLMs each client used (a derived pairing, no single source row)
participant_rows as (
    select
        client_id,
        'participant' as entity,
        'public' as source_schema,
        'participants' as source_table,
        cast(participant_id as text) as source_id,
        'conversation.participants' as cogito_table,
        human_participant_id as cogito_id,
        cast(null as text) as content_hash
    from users
    union all
    select
        client_id,
        'participant' as entity,
        source_schema,
        'avatars' as source_table,
        cast(avatar_id as text) as source_id,
        'conversation.participants' as cogito_table,
        {{ avatar_participant_uuid('client_id', 'source_schema', 'avatar_id') }} as cogito_id,
        cast(null as text) as content_hash
    from avatars
    union all
    select
        client_id,
        'participant' as entity,
        source_schema,
        source_table,
        cast(source_id as text) as source_id,
        'conversation.participants' as cogito_table,
        participant_id as cogito_id,
        cast(null as text) as content_hash
    from participants
    where participant_type = 'llm'
),

block_rows as (
    select
        client_id,
        'block' as entity,
        source_schema,
        'topic_paths' as source_table,
        cast(topic_id as text) as source_id,
        'conversation.blocks' as cogito_table,
        {{ topic_block_uuid('client_id', 'source_schema', 'topic_id') }} as cogito_id,
        cast(null as text) as content_hash
    from topics
    union all
    select
        client_id,
        'block' as entity,
        source_schema,
        'grp_cons' as source_table,
        cast(grp_con_id as text) as source_id,
        'conversation.blocks' as cogito_table,
        {{ conversation_block_uuid('client_id', 'source_schema', 'grp_con_id') }} as cogito_id,
        cast(null as text) as content_hash
    from conversations
),

turn_rows as (
    select
        client_id,
        'turn' as entity,
        source_schema,
        'grp_topic_avatar_turns' as source_table,
        cast(turn_id as text) as source_id,
        'conversation.turns' as cogito_table,
        {{ cogito_uuid('client_id', 'turn', 'source_schema', 'grp_topic_avatar_turns', 'turn_id') }} as cogito_id,
        {{ reconciliation_row_hash(['content_text']) }} as content_hash
    from topic_turns
    union all
    select
        client_id,
        'turn' as entity,
        source_schema,
        'grp_con_avatar_turns' as source_table,
        cast(turn_id as text) as source_id,
        'conversation.turns' as cogito_table,
        {{ cogito_uuid('client_id', 'turn', 'source_schema', 'grp_con_avatar_turns', 'turn_id') }} as cogito_id,
        {{ reconciliation_row_hash(['content_text']) }} as content_hash
    from legacy_turns
),

-- uploads and chunks take the client the attribution found (public rows: by bucket or storage twin)
upload_rows as (
    select
        coalesce(uploads_attributed.client_id, file_uploads.client_id) as client_id,
        'file_upload' as entity,
        file_uploads.source_schema,
        'file_uploads' as source_table,
        cast(file_uploads.upload_id as text) as source_id,
        'files.file_uploads' as cogito_table,
        uploads_attributed.file_upload_id as cogito_id,
        cast(null as text) as content_hash
    from file_uploads
    left join uploads_attributed
        on
            file_uploads.source_schema = uploads_attributed.source_schema
            and uploads_attributed.source_table = 'file_uploads'
            and file_uploads.upload_id = uploads_attributed.upload_id
    union all
    select
        coalesce(uploads_attributed.client_id, legacy_uploads.client_id) as client_id,
        'file_upload' as entity,
        legacy_uploads.source_schema,
        'grp_con_uploads' as source_table,
        cast(legacy_uploads.upload_id as text) as source_id,
        'files.file_uploads' as cogito_table,
        uploads_attributed.file_upload_id as cogito_id,
        cast(null as text) as content_hash
    from legacy_uploads
    left join uploads_attributed
        on
            legacy_uploads.source_schema = uploads_attributed.source_schema
            and uploads_attributed.source_table = 'grp_con_uploads'
            and legacy_uploads.upload_id = uploads_attributed.upload_id
),

chunk_rows as (
    select
        coalesce(chunks_attributed.client_id, file_chunks.client_id) as client_id,
        'file_upload_vector' as entity,
        file_chunks.source_schema,
        'file_upload_vectors' as source_table,
        cast(file_chunks.chunk_id as text) as source_id,
        'files.file_upload_vectors' as cogito_table,
        chunks_attributed.file_upload_vector_id as cogito_id,
        {{ reconciliation_row_hash(['file_chunks.content_text']) }} as content_hash
    from file_chunks
    left join chunks_attributed
        on
            file_chunks.source_schema = chunks_attributed.source_schema
            and chunks_attributed.source_table = 'file_upload_vectors'
            and file_chunks.chunk_id = chunks_attributed.chunk_id
    union all
    select
        coalesce(chunks_attributed.client_id, legacy_chunks.client_id) as client_id,
        'file_upload_vector' as entity,
        legacy_chunks.source_schema,
        'grp_con_upload_vectors' as source_table,
        cast(legacy_chunks.chunk_id as text) as source_id,
        'files.file_upload_vectors' as cogito_table,
        chunks_attributed.file_upload_vector_id as cogito_id,
        {{ reconciliation_row_hash(['legacy_chunks.content_text']) }} as content_hash
    from legacy_chunks
    left join chunks_attributed
        on
            legacy_chunks.source_schema = chunks_attributed.source_schema
            and chunks_attributed.source_table = 'grp_con_upload_vectors'
            and legacy_chunks.chunk_id = chunks_attributed.chunk_id
),

-- events: the tenant's own, and the public log with the client its schema or its person's one membership gives
event_rows as (
    select
        coalesce(events_unioned.client_id, tenant_events.client_id) as client_id,
        'participant_event' as entity,
        tenant_events.source_schema,
        'participant_events' as source_table,
        cast(tenant_events.event_id as text) as source_id,
        'events.participant_events' as cogito_table,
        events_unioned.participant_event_id as cogito_id,
        {{ reconciliation_row_hash([
            'tenant_events.details', 'cast(null as text)', 'cast(null as text)', 'tenant_events.created_at'
        ]) }} as content_hash
    from tenant_events
    left join events_unioned
        on
            tenant_events.source_schema = events_unioned.source_schema
            and events_unioned.source_table = 'participant_events'
            and tenant_events.event_id = events_unioned.event_id
    union all
    select
        events_unioned.client_id,
        'participant_event' as entity,
        event_logs.source_schema,
        'participant_event_logs' as source_table,
        cast(event_logs.event_id as text) as source_id,
        'events.participant_events' as cogito_table,
        events_unioned.participant_event_id as cogito_id,
        {{ reconciliation_row_hash([
            'event_logs.details', 'event_logs.ip_address', 'event_logs.user_agent', 'event_logs.created_at'
        ]) }} as content_hash
    from event_logs
    left join events_unioned
        on
            event_logs.source_schema = events_unioned.source_schema
            and events_unioned.source_table = 'participant_event_logs'
            and event_logs.event_id = events_unioned.event_id
),

final as (
    select * from user_rows
    union all
    select * from participant_rows
    union all
    select * from block_rows
    union all
    select * from turn_rows
    union all
    select * from upload_rows
    union all
    select * from chunk_rows
    union all
    select * from event_rows
)

select * from final
