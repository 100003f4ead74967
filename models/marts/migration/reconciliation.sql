-- Bookkeeping: per client and entity, Backstage rows against what the migration holds for them. Every source
-- row must be migrated (found again in the target by its uuid) or held (an open quarantine row), never both,
-- and the content of migrated turns, chunks and events must hash equal on both sides. Rows the migration wrote
-- earlier whose source is gone are counted, never deleted. A view: always the current state, not a history.
with

source_rows as (
    select * from {{ ref('int_reconciliation_source_rows') }}
),

clients as (
    select * from {{ ref('int_clients_mapped') }}
),

quarantine as (
    select * from {{ ref('quarantine') }}
    where status = 'open'
),

id_map as (
    select * from {{ ref('migration_id_map') }}
),

-- the target side: every row of every Cogito table the reconciliation covers, with the hash of its content
target_rows as (
    select
        id as cogito_id,
        'client_mgmt.users' as cogito_table,
        cast(null as text) as content_hash
    from {{ ref('users') }}
    union all
    select
        id as cogito_id,
        'conversation.participants' as cogito_table,
        cast(null as text) as content_hash
    from {{ ref('participants') }}
    union all
    select
        block_id as cogito_id,
        'conversation.blocks' as cogito_table,
        cast(null as text) as content_hash
    from {{ ref('blocks') }}
    union all
    select
        turn_id as cogito_id,
        'conversation.turns' as cogito_table,
        {{ reconciliation_row_hash(['content']) }} as content_hash
    from {{ ref('turns') }}
    union all
    select
        id as cogito_id,
        'files.file_uploads' as cogito_table,
        cast(null as text) as content_hash
    from {{ ref('file_uploads') }}
    union all
    select
        id as cogito_id,
        'files.file_upload_vectors' as cogito_table,
        {{ reconciliation_row_hash(['content_text']) }} as content_hash
    from {{ ref('file_upload_vectors') }}
    union all
    select
        id as cogito_id,
        'events.participant_events' as cogito_table,
        {{ reconciliation_row_hash(['details', 'ip_address', 'user_agent', 'created_at']) }} as content_hash
    from {{ ref('participant_events') }}
),

held_sources as (
    select distinct
        client_id,
        entity,
        source_schema,
        source_table,
        source_id
    from quarantine
    where disposition = 'held'
),

fallback_sources as (
    select distinct
        client_id,
        entity,
        source_schema,
        source_table,
        source_id
    from quarantine
    where disposition = 'migrated_with_fallback'
),

-- one row per source row: did it land, is it held, does its content match (-1 stands for "no client" in joins)
checked_rows as (
    select
        source_rows.client_id,
        source_rows.entity,
        source_rows.source_schema || '.' || source_rows.source_table || '.' || source_rows.source_id as source_key,
        target_rows.cogito_id is not null as is_migrated,
        held_sources.source_id is not null as is_held,
        fallback_sources.source_id is not null as is_fallback,
        source_rows.content_hash as source_content_hash,
        target_rows.content_hash as target_content_hash
    from source_rows
    left join target_rows
        on
            source_rows.cogito_id = target_rows.cogito_id
            and source_rows.cogito_table = target_rows.cogito_table
    left join held_sources
        on
            coalesce(source_rows.client_id, -1) = coalesce(held_sources.client_id, -1)
            and source_rows.entity = held_sources.entity
            and source_rows.source_schema = held_sources.source_schema
            and source_rows.source_table = held_sources.source_table
            and source_rows.source_id = held_sources.source_id
    left join fallback_sources
        on
            coalesce(source_rows.client_id, -1) = coalesce(fallback_sources.client_id, -1)
            and source_rows.entity = fallback_sources.entity
            and source_rows.source_schema = fallback_sources.source_schema
            and source_rows.source_table = fallback_sources.source_table
            and source_rows.source_id = fallback_sources.source_id
),

flagged_rows as (
    select
        *,
        not is_migrated and not is_held as is_missing,
        is_migrated and is_held as is_doubly_accounted,
        is_migrated and coalesce(source_content_hash, '') <> coalesce(target_content_hash, '') as is_changed
    from checked_rows
),

source_figures as (
    select
        client_id,
        entity,
        count(*) as source_rows,
        count(*) filter (where is_migrated) as migrated_rows,
        count(*) filter (where is_migrated and is_fallback) as fallback_rows,
        count(*) filter (where is_missing) as missing_rows,
        count(*) filter (where is_changed) as changed_rows,
        -- order-dependent on purpose: the same rows in the same order (by source key) hash the same
        md5(string_agg(source_content_hash, '' order by source_key) filter (
            where not is_held and source_content_hash is not null
        )) as source_content_hash,
        md5(string_agg(coalesce(target_content_hash, 'missing'), '' order by source_key) filter (
            where not is_held and source_content_hash is not null
        )) as target_content_hash,
        array_to_string(
            (array_agg(
                source_key || case
                    when is_missing then ' missing'
                    when is_doubly_accounted then ' migrated and held'
                    else ' content differs'
                end
                order by source_key
            ) filter (where is_missing or is_doubly_accounted or is_changed))[1:5],
            ', '
        ) as mismatch_examples
    from flagged_rows
    group by client_id, entity
),

held_figures as (
    select
        client_id,
        entity,
        count(distinct source_schema || '.' || source_table || '.' || source_id) as held_rows
    from quarantine
    where disposition = 'held'
    group by client_id, entity
),

-- rows the migration wrote (the id map remembers them) whose Backstage row no longer exists
gone_rows as (
    select
        id_map.client_id,
        id_map.entity,
        id_map.source_schema || '.' || id_map.source_table || '.' || id_map.source_id as source_key,
        target_rows.cogito_id is not null as still_in_target
    from id_map
    left join target_rows on id_map.cogito_id = target_rows.cogito_id
    where not exists (
            select from source_rows
            where source_rows.cogito_id = id_map.cogito_id
        )
),

gone_figures as (
    select
        client_id,
        entity,
        count(*) as deleted_in_source_rows,
        array_to_string((array_agg(
            source_key || case when still_in_target then '' else ' (gone from the target too)' end
            order by source_key
        ))[1:5], ', ') as deleted_in_source_examples
    from gone_rows
    group by client_id, entity
),

keys as (
    select
        client_id,
        entity
    from source_figures
    union
    select
        client_id,
        entity
    from held_figures
    union
    select
        client_id,
        entity
    from gone_figures
),

combined as (
    select
        keys.client_id,
        clients.backstage_schema,
        keys.entity,
        coalesce(source_figures.source_rows, 0) as source_rows,
        coalesce(source_figures.migrated_rows, 0) as migrated_rows,
        coalesce(held_figures.held_rows, 0) as held_rows,
        coalesce(source_figures.fallback_rows, 0) as fallback_rows,
        coalesce(source_figures.missing_rows, 0) as missing_rows,
        coalesce(source_figures.changed_rows, 0) as changed_rows,
        coalesce(gone_figures.deleted_in_source_rows, 0) as deleted_in_source_rows,
        source_figures.source_content_hash,
        source_figures.target_content_hash,
        source_figures.mismatch_examples,
        gone_figures.deleted_in_source_examples,
        (
            coalesce(source_figures.source_rows, 0)
            = coalesce(source_figures.migrated_rows, 0) + coalesce(held_figures.held_rows, 0)
            and coalesce(source_figures.changed_rows, 0) = 0
            and coalesce(source_figures.source_content_hash, '') = coalesce(source_figures.target_content_hash, '')
        ) as is_balanced
    from keys
    left join clients on keys.client_id = clients.client_id
    left join source_figures
        on
            coalesce(keys.client_id, -1) = coalesce(source_figures.client_id, -1)
            and keys.entity = source_figures.entity
    left join held_figures
        on
            coalesce(keys.client_id, -1) = coalesce(held_figures.client_id, -1)
            and keys.entity = held_figures.entity
    left join gone_figures
        on
            coalesce(keys.client_id, -1) = coalesce(gone_figures.client_id, -1)
            and keys.entity = gone_figures.entity
),

final as (
    select
        {{ cogito_uuid_from_parts(
            'client_id', "'reconciliation'", "'migration'", "'reconciliation'", 'entity'
        ) }} as reconciliation_id,
        client_id,
        backstage_schema,
        entity,
        source_rows,
        migrated_rows,
        held_rows,
        fallback_rows,
        missing_rows,
        changed_rows,
        deleted_in_source_rows,
        source_content_hash,
        target_content_hash,
        case
            when not is_balanced then 'mismatch'
            when deleted_in_source_rows > 0 then 'deleted_in_source'
            else 'reconciled'
        end as status,
        mismatch_examples,
        deleted_in_source_examples
    from combined
)

select * from final
