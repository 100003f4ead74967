-- Every migrated Backstage row and the uuid it became (the same rows the marts write, by the same rules).
with

users as (
    select * from {{ ref('int_users_deduplicated') }}
),

participants as (
    select * from {{ ref('int_participants_unioned') }}
),

blocks as (
    select * from {{ ref('int_blocks_nested') }}
),

turns as (
    select * from {{ ref('int_turns_unioned') }}
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

mapped as (
    select
        user_id as cogito_id,
        client_id,
        'user' as entity,
        'public' as source_schema,
        'participants' as source_table,
        participant_id::text as source_id,
        'client_mgmt.users' as cogito_table,
        client_id as key_client_id
    from users
    where holds_login
    union all
    select
        participant_id as cogito_id,
        client_id,
        'participant' as entity,
        source_schema,
        source_table,
        source_id::text as source_id,
        'conversation.participants' as cogito_table,
        client_id as key_client_id
    from participants
    where participant_type <> 'unknown'
    union all
    select
        block_id as cogito_id,
        client_id,
        'block' as entity,
        source_schema,
        source_table,
        source_id::text as source_id,
        'conversation.blocks' as cogito_table,
        client_id as key_client_id
    from blocks
    where block_type = 'conversation'
    union all
    select
        cogito_turn_id as cogito_id,
        client_id,
        'turn' as entity,
        source_schema,
        source_table,
        turn_id::text as source_id,
        'conversation.turns' as cogito_table,
        client_id as key_client_id
    from turns
    union all
    select
        file_upload_id as cogito_id,
        client_id,
        'file_upload' as entity,
        source_schema,
        source_table,
        upload_id::text as source_id,
        'files.file_uploads' as cogito_table,
        client_id as key_client_id
    from uploads
    where is_attributable
    union all
    select
        file_upload_vector_id as cogito_id,
        client_id,
        'file_upload_vector' as entity,
        source_schema,
        source_table,
        chunk_id::text as source_id,
        'files.file_upload_vectors' as cogito_table,
        client_id as key_client_id
    from chunks
    where quarantine_reason is null
    union all
    select
        participant_event_id as cogito_id,
        client_id,
        'participant_event' as entity,
        source_schema,
        source_table,
        event_id::text as source_id,
        'events.participant_events' as cogito_table,
        -- public log events are keyed without a client (see int_events_unioned)
        case when source_table = 'participant_events' then client_id end as key_client_id
    from events
    where created_at is not null
),

final as (
    select
        cogito_id,
        client_id,
        entity,
        source_schema,
        source_table,
        source_id,
        cogito_table,
        {{ cogito_uuid_key_from_parts('key_client_id', 'entity', 'source_schema', 'source_table', 'source_id') }}
            as id_key
    from mapped
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
