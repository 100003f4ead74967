-- What becomes of every Backstage person in each client they belong to, decided once: a login (client_mgmt.users),
-- a participant only (the younger of two case-duplicate emails), nothing (no membership), a login without a
-- password (not bcrypt), or a login that waits while another user holds its email in the target.
{{ config(meta={'reads_marts': ['users']}) }}
with

people as (
    select * from {{ ref('stg_backstage__participants') }}
),

users as (
    select * from {{ ref('int_users_deduplicated') }}
),

carried_passwords as (
    select * from {{ ref('stg_migration__carried_passwords') }}
),

-- the logins the target holds before this run (nothing on the first run)
logins_in_target as (
    {{ migrated_rows('users', ['id', 'client_id', 'email']) }}
),

reasoned as (
    select
        users.client_id,
        'user' as entity,
        'public' as source_schema,
        'participants' as source_table,
        cast(people.participant_id as text) as source_id,
        case
            when users.holds_login then {{ cogito_table_of('user') }}
            when users.participant_id is not null then {{ cogito_table_of('participant') }}
        end as cogito_table,
        case when users.holds_login then users.user_id else users.human_participant_id end as cogito_id,
        users.client_id as key_client_id,
        {{ content_hash('user', 'people') }} as content_hash,
        landed.id is not null as is_in_target,
        jsonb_strip_nulls(jsonb_build_object(
            -- no footprint in any migrated client: no user, no participant
            'no_client_membership', case
                when users.participant_id is null
                    then jsonb_build_object('participant_id', people.participant_id)
            end,
            -- the login stays with the older person; this one's participant (and every turn it spoke) lands
            'duplicate_email', case
                when not users.holds_login
                    then jsonb_build_object(
                            'participant_id', users.participant_id,
                            'schema_name', users.backstage_schema,
                            'login_kept_by_participant_id', users.duplicate_of_participant_id,
                            'fallback', 'participant without a login'
                        )
            end,
            -- the stored password is not bcrypt (plaintext or empty): no password, a reset is required
            'password_reset_required', case
                when users.holds_login and users.password_status = 'reset_required'
                    then jsonb_build_object(
                            'participant_id', users.participant_id,
                            'stored_value_shape', carried_passwords.password_shape,
                            'fallback', 'password_hash NULL, reset required'
                        )
            end,
            -- one login per email and client (unique index on lower(email)): a sign-up in Cogito, or a login the
            -- migration keeps after its person changed email, holds it; this one waits as it is, or unwritten
            'email_taken', case
                when holder.id is not null
                    then jsonb_build_object(
                            'participant_id', users.participant_id,
                            'schema_name', users.backstage_schema,
                            'email_held_by_user_id', holder.id,
                            'fallback', case
                                when landed.id is null then 'no login yet' else 'the email it was migrated with'
                            end
                        )
            end
        )) as reasons
    from people
    left join users on people.participant_id = users.participant_id
    left join carried_passwords on users.participant_id = carried_passwords.participant_id
    left join logins_in_target as holder
        on
            users.holds_login
            and users.client_id = holder.client_id
            and users.email_lower = lower(holder.email)
            and users.user_id <> holder.id
    left join logins_in_target as landed on users.holds_login and users.user_id = landed.id
),

final as (
    select
        client_id,
        entity,
        source_schema,
        source_table,
        source_id,
        cogito_table,
        cogito_id,
        key_client_id,
        content_hash,
        reasons,
        {{ source_row_decision('user', already_landed='is_in_target') }}
    from reasoned
)

select * from final
