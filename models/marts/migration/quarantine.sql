-- Bookkeeping: every source row that did not land as it is, keyed by (reason, source row). Rows are never
-- deleted: one whose source row now lands as it is (or is gone) stays, marked `resolved`.
with

candidates as (
    select * from {{ ref('int_quarantine_candidates') }}
),

-- turns whose speaker Backstage deleted after they were migrated (the turns mart keeps the migrated speaker);
-- only turns whose speaker no longer resolves can be such, so only those are looked up
speakers_kept as (
    select turn_id from {{ ref('turns') }}
    where
        turn_id in (
            select candidates.landed_id from candidates
            where candidates.reason = 'unknown_speaker'
        )
        and cast(metadata ->> 'speaker_deleted_in_source' as boolean)
),

-- a login whose email another user already holds in the target: the users mart leaves it as it was (or unwritten)
emails_taken as (
    select
        logins.client_id,
        'user' as entity,
        'public' as source_schema,
        'participants' as source_table,
        cast(logins.participant_id as text) as source_id,
        'email_taken' as reason,
        case when landed.id is null then 'held' else 'migrated_with_fallback' end as disposition,
        landed.id as landed_id,
        jsonb_build_object(
            'participant_id', logins.participant_id,
            'schema_name', logins.backstage_schema,
            'email_held_by_user_id', holder.id,
            'fallback', case when landed.id is null then 'no login yet' else 'the email it was migrated with' end
        ) as evidence
    from {{ ref('int_users_deduplicated') }} as logins
    inner join {{ ref('users') }} as holder
        on
            logins.client_id = holder.client_id
            and logins.email_lower = lower(holder.email)
            and logins.user_id <> holder.id
    left join {{ ref('users') }} as landed on logins.user_id = landed.id
    where logins.holds_login
),

-- an unresolved speaker is a fallback to the unknown participant, except where the turn kept its migrated one
reasoned as (
    select
        candidates.client_id,
        candidates.entity,
        candidates.source_schema,
        candidates.source_table,
        candidates.source_id,
        case when speakers_kept.turn_id is null then candidates.reason else 'speaker_deleted_in_source' end
            as reason,
        candidates.disposition,
        candidates.landed_id,
        case
            when speakers_kept.turn_id is null then candidates.evidence
            else candidates.evidence || jsonb_build_object('fallback', 'the speaker it was migrated with')
        end as evidence
    from candidates
    left join speakers_kept
        on
            candidates.reason = 'unknown_speaker'
            and candidates.landed_id = speakers_kept.turn_id
    union all
    select * from emails_taken
),

open_rows as (
    select
        {{ cogito_uuid_from_parts(
            'client_id', "'quarantine'", 'source_schema', 'source_table',
            "entity || '/' || reason || '/' || source_id"
        ) }} as quarantine_id,
        client_id,
        entity,
        source_schema,
        source_table,
        source_id,
        reason,
        disposition,
        landed_id,
        evidence
    from reasoned
),

-- what earlier runs quarantined (nothing on the first build)
existing as (
    {{ previous_rows(model.columns.keys() | list) }}
),

-- quarantined by an earlier run, no longer a candidate: kept, resolved (once; the first resolution time stays)
resolved_rows as (
    select
        existing.quarantine_id,
        existing.client_id,
        existing.entity,
        existing.source_schema,
        existing.source_table,
        existing.source_id,
        existing.reason,
        existing.disposition,
        existing.landed_id,
        existing.evidence,
        'resolved' as status,
        existing.quarantined_at,
        coalesce(existing.resolved_at, now()) as resolved_at
    from existing
    where not exists (
            select from open_rows
            where open_rows.quarantine_id = existing.quarantine_id
        )
),

-- still (or newly) quarantined: the first quarantine time stays
stamped as (
    select
        open_rows.*,
        'open' as status,
        coalesce(existing.quarantined_at, now()) as quarantined_at,
        cast(null as timestamptz) as resolved_at
    from open_rows
    left join existing on open_rows.quarantine_id = existing.quarantine_id
),

final as (
    select * from stamped
    union all
    select * from resolved_rows
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
