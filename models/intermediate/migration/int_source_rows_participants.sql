-- Every Backstage row that becomes a participant, decided once: a human per membership, a tenant avatar, and an
-- LLM per client that used it (a derived pairing, no single source row). Every one lands; none has a fallback.
with

users as (
    select * from {{ ref('int_users_deduplicated') }}
),

avatars as (
    select * from {{ ref('stg_backstage__avatars') }}
),

participants as (
    select * from {{ ref('int_participants_unioned') }}
),

unioned as (
    select
        client_id,
        'public' as source_schema,
        'participants' as source_table,
        cast(participant_id as text) as source_id,
        human_participant_id as cogito_id
    from users
    union all
    -- a tenant avatar takes the uuid of its participant (one the reshaping lost has none: reported missing)
    select
        avatars.client_id,
        avatars.source_schema,
        'avatars' as source_table,
        cast(avatars.avatar_id as text) as source_id,
        participants.participant_id as cogito_id
    from avatars
    left join participants
        on
            avatars.source_schema = participants.source_schema
            and participants.source_table = 'avatars'
            and avatars.avatar_id = participants.source_id
    union all
    select
        client_id,
        source_schema,
        source_table,
        cast(source_id as text) as source_id,
        participant_id as cogito_id
    from participants
    where participant_type = 'llm'
),

reasoned as (
    select
        client_id,
        'participant' as entity,
        source_schema,
        source_table,
        source_id,
        {{ cogito_table_of('participant') }} as cogito_table,
        cogito_id,
        client_id as key_client_id,
        {{ content_hash('participant', 'unioned') }} as content_hash,
        cast('{}' as jsonb) as reasons
    from unioned
)

select
    *,
    {{ source_row_decision('participant') }}
from reasoned
