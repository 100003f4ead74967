-- Every participant of every client: humans (per membership), avatars, the LLMs the client used, one unknown.
-- A table, not a view: the marts join it several times and each uuid is computed once here. Kept with the `sync`
-- strategy: computed whole, written only where a row changed, so its rows' xmin tell the marts what changed.
{{ config(
    materialized='incremental',
    incremental_strategy='sync',
    unique_key='participant_id',
    on_schema_change='sync_all_columns'
) }}
with

clients as (
    select * from {{ ref('int_clients_mapped') }}
),

users as (
    select * from {{ ref('int_users_deduplicated') }}
),

folded_groups as (
    select * from {{ ref('int_participant_groups_folded') }}
),

avatars as (
    select * from {{ ref('stg_backstage__avatars') }}
),

avatar_scopes as (
    select * from {{ ref('stg_backstage__avatar_scopes') }}
),

llms as (
    select * from {{ ref('stg_backstage__llms') }}
),

llm_types as (
    select * from {{ ref('stg_backstage__llm_types') }}
),

speakers as (
    select * from {{ ref('int_speakers_resolved') }}
),

participant_llms as (
    select * from {{ ref('stg_backstage__participant_llms') }}
),

humans as (
    select
        users.client_id,
        -- the row behind a human is the global person (the key of its uuid)
        'public' as source_schema,
        'participants' as source_table,
        users.participant_id as source_id,
        users.human_participant_id as participant_id,
        users.user_id,
        users.participant_name,
        'human' as participant_type,
        coalesce(users.created_at, clients.created_at) as created_at,
        jsonb_build_object(
            'client_id', users.client_id,
            'migrated_from', 'backstage',
            'schema_name', users.backstage_schema,
            'original_participant_id', users.participant_id,
            'email', users.email,
            'groups', coalesce(folded_groups.group_list, '[]'::jsonb),
            'membership_footprints', to_jsonb(string_to_array(users.footprints, ',')),
            'login', case when users.holds_login then 'user' else 'duplicate_email' end,
            'duplicate_of_participant_id', users.duplicate_of_participant_id
        ) as metadata
    from users
    inner join clients on users.client_id = clients.client_id
    left join folded_groups
        on
            users.client_id = folded_groups.client_id
            and users.participant_id = folded_groups.participant_id
),

avatar_participants as (
    select
        avatars.client_id,
        avatars.source_schema,
        'avatars' as source_table,
        avatars.avatar_id as source_id,
        {{ avatar_participant_uuid('avatars.client_id', 'avatars.source_schema', 'avatars.avatar_id') }}
            as participant_id,
        null::uuid as user_id,
        coalesce(nullif(avatars.avatar_name, ''), 'Avatar ' || avatars.avatar_id) as participant_name,
        'avatar' as participant_type,
        coalesce(avatars.created_at, clients.created_at) as created_at,
        jsonb_build_object(
            'client_id', avatars.client_id,
            'migrated_from', 'backstage',
            'schema_name', avatars.source_schema,
            'original_avatar_id', avatars.avatar_id,
            'instruction_set', avatars.instruction_set,
            'avatar_scope_id', avatars.avatar_scope_id,
            'avatar_scope', avatar_scopes.avatar_scope_name,
            -- staging already removed every secret-named key at any depth
            'llm_config', avatars.llm_config
        ) as metadata
    from avatars
    inner join clients on avatars.client_id = clients.client_id
    left join avatar_scopes
        on
            avatars.client_id = avatar_scopes.client_id
            and avatars.avatar_scope_id = avatar_scopes.avatar_scope_id
),

-- an LLM becomes a participant of each client that used it: as a speaker, or linked to one of its members
client_llms as (
    select
        client_id,
        speaker_llm_id as llm_id
    from speakers
    where speaker_type = 'llm'
    union
    select
        client_id,
        llm_id
    from participant_llms
),

llm_participants as (
    select
        client_llms.client_id,
        'public' as source_schema,
        'llms' as source_table,
        llms.llm_id as source_id,
        {{ llm_participant_uuid('client_llms.client_id', 'llms.llm_id') }} as participant_id,
        null::uuid as user_id,
        coalesce(nullif(llms.llm_name, ''), llms.model, 'LLM ' || llms.llm_id) as participant_name,
        'llm' as participant_type,
        coalesce(llms.created_at, clients.created_at) as created_at,
        jsonb_build_object(
            'client_id', client_llms.client_id,
            'migrated_from', 'backstage',
            'schema_name', clients.backstage_schema,
            'original_llm_id', llms.llm_id,
            'provider', llms.provider,
            'model', llms.model,
            'llm_type', llm_types.llm_type_name,
            'temperature', llms.temperature,
            'max_tokens', llms.max_tokens
        ) as metadata
    from client_llms
    inner join clients on client_llms.client_id = clients.client_id
    inner join llms on client_llms.llm_id = llms.llm_id
    left join llm_types on llms.llm_type_id = llm_types.llm_type_id
),

unknown_participants as (
    select
        client_id,
        backstage_schema as source_schema,
        'unknown_speaker' as source_table,
        null::bigint as source_id,
        {{ unknown_participant_uuid('client_id', 'backstage_schema') }} as participant_id,
        null::uuid as user_id,
        'Unknown speaker' as participant_name,
        'unknown' as participant_type,
        created_at,
        jsonb_build_object(
            'client_id', client_id,
            'migrated_from', 'backstage',
            'schema_name', backstage_schema,
            'description', 'Stands in for the speaker of turns whose speaker Backstage does not identify.'
        ) as metadata
    from clients
),

final as (
    select * from humans
    union all
    select * from avatar_participants
    union all
    select * from llm_participants
    union all
    select * from unknown_participants
)

select * from final
