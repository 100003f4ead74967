-- Bookkeeping: every source row that did not land as it is, one row per (reason, source row), from the decisions
-- in int_source_rows. Rows are never deleted: one whose source row now lands as it is (or is gone) stays, `resolved`.
with

source_rows as (
    select * from {{ ref('int_source_rows') }}
    where reasons <> cast('{}' as jsonb)
),

reasoned as (
    select
        source_rows.client_id,
        source_rows.entity,
        source_rows.source_schema,
        source_rows.source_table,
        source_rows.source_id,
        reason.key as reason,
        source_rows.disposition,
        case when source_rows.disposition <> 'held' then source_rows.cogito_id end as landed_id,
        reason.value as evidence
    from source_rows
    cross join lateral jsonb_each(source_rows.reasons) as reason
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
