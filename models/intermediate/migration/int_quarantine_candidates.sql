-- Every source row that does not land as it is, with the reason (doc `quarantine_reasons`) and what happened:
-- `held` (not migrated) or `migrated_with_fallback` (landed with a stand-in). Never dropped, never guessed.
-- Evidence names ids and categories only: never a secret, a password or a hash.
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

carried_passwords as (
    select * from {{ ref('stg_migration__carried_passwords') }}
),

blocks as (
    select * from {{ ref('int_blocks_nested') }}
),

turns as (
    select * from {{ ref('int_turns_unioned') }}
),

speakers as (
    select * from {{ ref('int_speakers_resolved') }}
),

placements as (
    select * from {{ ref('int_turns_ordered_within_blocks') }}
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

-- held: the row has no Cogito counterpart --------------------------------------------------------------------------
held as (
    -- a person with no footprint in any migrated client: no user, no participant
    select
        cast(null as integer) as client_id,
        'user' as entity,
        people.source_schema,
        'participants' as source_table,
        cast(people.participant_id as text) as source_id,
        'no_client_membership' as reason,
        cast(null as uuid) as landed_id,
        jsonb_build_object('participant_id', people.participant_id) as evidence
    from people
    where not exists (
            select from memberships
            where memberships.participant_id = people.participant_id
        )
    union all
    select
        client_id,
        'file_upload' as entity,
        source_schema,
        source_table,
        cast(upload_id as text) as source_id,
        'unattributable_file' as reason,
        cast(null as uuid) as landed_id,
        jsonb_build_object('upload_id', upload_id, 'bucket_name', bucket_name) as evidence
    from uploads
    where not is_attributable
    union all
    -- chunks whose upload is gone or unattributable, or whose index is missing or repeated
    select
        client_id,
        'file_upload_vector' as entity,
        source_schema,
        source_table,
        cast(chunk_id as text) as source_id,
        quarantine_reason as reason,
        cast(null as uuid) as landed_id,
        jsonb_build_object(
            'chunk_id', chunk_id,
            'upload_id', upload_id,
            'chunk_index', chunk_index,
            'kept_chunk_for_index', case when quarantine_reason = 'duplicate_chunk_index' then 'lowest chunk id' end
        ) as evidence
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
        cast(null as uuid) as landed_id,
        jsonb_build_object('event_id', event_id, 'event_type', event_type) as evidence
    from events
    where created_at is null
),

-- migrated with a fallback: the row landed, with a stand-in the marts chose ------------------------------------------
fallbacks as (
    -- the younger of two case-duplicate emails in one client: its participant (and every turn it spoke) lands,
    -- the login stays with the older person
    select
        client_id,
        'user' as entity,
        'public' as source_schema,
        'participants' as source_table,
        cast(participant_id as text) as source_id,
        'duplicate_email' as reason,
        human_participant_id as landed_id,
        jsonb_build_object(
            'participant_id', participant_id,
            'schema_name', backstage_schema,
            'login_kept_by_participant_id', duplicate_of_participant_id,
            'fallback', 'participant without a login'
        ) as evidence
    from users
    where not holds_login
    union all
    -- the stored password is not bcrypt (plaintext or empty): the user lands without one and must reset it
    select
        users.client_id,
        'user' as entity,
        'public' as source_schema,
        'participants' as source_table,
        cast(users.participant_id as text) as source_id,
        'password_reset_required' as reason,
        users.user_id as landed_id,
        jsonb_build_object(
            'participant_id', users.participant_id,
            'stored_value_shape', carried_passwords.password_shape,
            'fallback', 'password_hash NULL, reset required'
        ) as evidence
    from users
    left join carried_passwords on users.participant_id = carried_passwords.participant_id
    where users.holds_login and users.password_status = 'reset_required'
    union all
    -- a legacy conversation whose parent is not in its own schema (conflict_club points into bsa)
    select
        client_id,
        'block' as entity,
        source_schema,
        source_table,
        cast(source_id as text) as source_id,
        'missing_parent_conversation' as reason,
        block_id as landed_id,
        jsonb_build_object(
            'grp_con_id', source_id,
            'original_parent_grp_con_id', metadata -> 'original_parent_grp_con_id',
            'fallback', 'top-level block'
        ) as evidence
    from blocks
    where
        source_table = 'grp_cons'
        and metadata ->> 'original_parent_grp_con_id' is not null
        and not cast((metadata -> 'parent_resolved') as boolean)
    union all
    -- the turn's topic or conversation does not exist: the turn lands, in order, in the client's unfiled block
    select
        turns.client_id,
        'turn' as entity,
        turns.source_schema,
        turns.source_table,
        cast(turns.turn_id as text) as source_id,
        'missing_topic' as reason,
        turns.cogito_turn_id as landed_id,
        jsonb_build_object(
            'turn_id', turns.turn_id,
            'topic_id', turns.topic_id,
            'topic_index', turns.topic_index,
            'grp_con_id', turns.grp_con_id,
            'fallback', 'unfiled block'
        ) as evidence
    from turns
    inner join placements
        on
            turns.client_id = placements.client_id
            and turns.source_table = placements.source_table
            and turns.turn_id = placements.turn_id
    where placements.block_resolution = 'unfiled'
    union all
    -- nothing identifies who spoke: the client's unknown participant stands in
    select
        turns.client_id,
        'turn' as entity,
        turns.source_schema,
        turns.source_table,
        cast(turns.turn_id as text) as source_id,
        'unknown_speaker' as reason,
        turns.cogito_turn_id as landed_id,
        jsonb_build_object(
            'turn_id', turns.turn_id,
            'speaker_resolution', speakers.speaker_resolution,
            'participant_id', turns.participant_id,
            'avatar_id', turns.avatar_id,
            'llm_id', turns.llm_id,
            'message_type_id', turns.message_type_id,
            'fallback', 'unknown participant'
        ) as evidence
    from turns
    inner join speakers
        on
            turns.client_id = speakers.client_id
            and turns.source_table = speakers.source_table
            and turns.turn_id = speakers.turn_id
    where speakers.speaker_type = 'unknown'
    union all
    -- no creation time: the turn takes its update time, else its block's
    select
        client_id,
        'turn' as entity,
        source_schema,
        source_table,
        cast(turn_id as text) as source_id,
        'missing_created_at' as reason,
        cogito_turn_id as landed_id,
        jsonb_build_object(
            'turn_id', turn_id,
            'fallback', case when updated_at is not null then 'updated_at' else 'block created_at' end
        ) as evidence
    from turns
    where created_at is null
    union all
    -- an all-zero vector is a failed embedding: it lands as NULL
    select
        client_id,
        'turn' as entity,
        source_schema,
        source_table,
        cast(turn_id as text) as source_id,
        'zero_vector' as reason,
        cogito_turn_id as landed_id,
        jsonb_build_object('turn_id', turn_id, 'fallback', 'content_vector NULL') as evidence
    from turns
    where is_zero_vector
    union all
    select
        client_id,
        'file_upload_vector' as entity,
        source_schema,
        source_table,
        cast(chunk_id as text) as source_id,
        'zero_vector' as reason,
        file_upload_vector_id as landed_id,
        jsonb_build_object('chunk_id', chunk_id, 'fallback', 'content_vector NULL') as evidence
    from chunks
    where is_zero_vector and quarantine_reason is null
    union all
    -- a public event log row whose schema_id names no client and whose person is in no single client
    select
        client_id,
        'participant_event' as entity,
        source_schema,
        source_table,
        cast(event_id as text) as source_id,
        'no_event_client' as reason,
        participant_event_id as landed_id,
        jsonb_build_object(
            'event_id', event_id,
            'schema_id', schema_id,
            'original_participant_id', original_participant_id,
            'fallback', 'client_id NULL'
        ) as evidence
    from events
    where client_id is null and created_at is not null
    union all
    -- the event's person is not a member of the event's client: the event lands without a participant
    select
        client_id,
        'participant_event' as entity,
        source_schema,
        source_table,
        cast(event_id as text) as source_id,
        'unknown_event_participant' as reason,
        participant_event_id as landed_id,
        jsonb_build_object(
            'event_id', event_id,
            'original_participant_id', original_participant_id,
            'fallback', 'participant_id NULL'
        ) as evidence
    from events
    where
        client_id is not null
        and created_at is not null
        and original_participant_id is not null
        and participant_id is null
),

final as (
    select
        client_id,
        entity,
        source_schema,
        source_table,
        source_id,
        reason,
        'held' as disposition,
        landed_id,
        jsonb_strip_nulls(evidence) as evidence
    from held
    union all
    select
        client_id,
        entity,
        source_schema,
        source_table,
        source_id,
        reason,
        'migrated_with_fallback' as disposition,
        landed_id,
        jsonb_strip_nulls(evidence) as evidence
    from fallbacks
)

select * from final
