with

users as (
    select * from {{ ref('int_users_deduplicated') }}
),

-- the logins the target holds already (nothing on the first run)
emails_held as (
    {{ previous_rows(['id', 'client_id', 'email']) }}
),

final as (
    select
        user_id as id,
        client_id,
        email,
        password_hash,
        true as is_active,
        created_at,
        cast(null as timestamptz) as last_login,
        jsonb_build_object(
            'migrated_from', 'backstage',
            'original_participant_id', participant_id,
            'schema_name', backstage_schema,
            'password_status', password_status
        ) as metadata
    from users
    -- the younger of two case-duplicate emails is quarantined as a user (int_quarantine_candidates)
    where
        holds_login
        -- An email another user already holds in the target (a sign-up in Cogito, or a login the migration keeps
        -- after its person changed email in Backstage): one login per email and client, so this row waits as it
        -- is, or unwritten (quarantine `email_taken`), instead of breaking the unique index on lower(email).
        and not exists (
            select
            from emails_held
            where
                emails_held.client_id = users.client_id
                and lower(emails_held.email) = users.email_lower
                and emails_held.id <> users.user_id
        )
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
