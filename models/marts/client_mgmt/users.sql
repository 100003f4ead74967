with

users as (
    select * from {{ ref('int_users_deduplicated') }}
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
    -- which logins are written (not a duplicate email, not waiting for an email another user holds) is decided in
    -- int_source_rows_users
    where user_id in ({{ written_source_rows('user') }})
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
