-- Bookkeeping: per client and entity, Backstage rows against what the migration holds for them. Every source
-- row must be migrated (found again in the target by its uuid) or held (as int_source_rows decided), never both,
-- and the content of migrated turns, chunks and events must hash equal on both sides. Rows the migration wrote
-- earlier whose source is gone are counted, never deleted. Always the current state, not a history.
-- A moving source (Backstage written while, or after, the build reads it) is not loss: a turn whose current row
-- the build did not read, or whose version the build's source snapshot does not see, counts as not yet migrated
-- (the next run brings it); a row the build read as it is and cannot find in the target stays missing.
-- Hash joins, not merge joins: planned from the estimates of CTEs, the joins sorted every source key three times
-- (4.7 s at scale 10, against 2.3 s hashed); `set local` lasts for this model's transaction.
{{ config(pre_hook=["{{ reconciliation_hold_point() }}", "set local enable_mergejoin = off"]) }}
with

source_rows as (
    select * from {{ ref('int_source_rows') }}
),

clients as (
    select * from {{ ref('int_clients_mapped') }}
),

id_map as (
    select * from {{ ref('migration_id_map') }}
),

-- what the latest build could see of Backstage (written by mark_build_start before any node read)
build_read as (
    select (
        select build_marker.source_snapshot
        from migration.build_marker
        order by build_marker.started_at desc
        limit 1
    ) as source_snapshot
),

-- every Backstage turn as it is now, by its version alone (no text, no vector)
current_turns as (
    select
        client_id,
        source_schema,
        'grp_topic_avatar_turns' as source_table,
        cast(turn_id as text) as source_id,
        source_row_version
    from {{ ref('stg_backstage__topic_turns') }}
    union all
    select
        client_id,
        source_schema,
        'grp_con_avatar_turns' as source_table,
        cast(turn_id as text) as source_id,
        source_row_version
    from {{ ref('stg_backstage__legacy_turns') }}
),

decided_turns as (
    select * from source_rows
    where entity = 'turn'
),

-- each turn as the build decided on it and as it is now (one join): a turn inserted or updated since
-- int_source_rows read it is unread (the build decided nothing about it as it is); a turn deleted since keeps
-- its decision
turns_read as (
    select
        coalesce(source_rows.client_id, current_turns.client_id) as client_id,
        'turn' as entity,
        coalesce(
            source_rows.source_key,
            current_turns.source_schema || '.' || current_turns.source_table || '.' || current_turns.source_id
        ) as source_key,
        source_rows.cogito_id,
        source_rows.cogito_table,
        source_rows.disposition,
        source_rows.content_hash,
        source_rows.source_row_version,
        (
            current_turns.source_id is not null
            and source_rows.source_row_version is distinct from current_turns.source_row_version
        ) as is_unread
    from decided_turns as source_rows
    full join current_turns
        on
            source_rows.source_schema = current_turns.source_schema
            and source_rows.source_table = current_turns.source_table
            and source_rows.source_id = current_turns.source_id
),

-- every source row the reconciliation accounts for: the build's decisions, turns as they are now
accounted_rows as (
    select
        client_id,
        entity,
        source_key,
        cogito_id,
        cogito_table,
        disposition,
        content_hash,
        source_row_version,
        false as is_unread
    from source_rows
    where entity <> 'turn'
    union all
    select * from turns_read
),

-- the target side: every row of every Cogito table of the vocabulary, with the hash of its content
target_rows as (
    {%- for entity, spec in var('migration_entities').items() %}
        select
            {{ spec.get('id_column', 'id') }} as cogito_id,
            '{{ spec.cogito_table }}' as cogito_table,
            {{ content_hash(entity, 'landed') }} as content_hash
        from {{ ref(spec.cogito_table.split('.')[1]) }} as landed
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

-- one row per source row: did it land, is it held, does its content match (-1 stands for "no client" in joins)
checked_rows as (
    select
        accounted_rows.client_id,
        accounted_rows.entity,
        accounted_rows.source_key,
        accounted_rows.source_row_version,
        accounted_rows.is_unread,
        target_rows.cogito_id is not null as is_in_target,
        coalesce(accounted_rows.disposition = 'held', false) as is_held,
        coalesce(accounted_rows.disposition = 'migrated_with_fallback', false) as is_fallback,
        accounted_rows.content_hash as source_content_hash,
        target_rows.content_hash as target_content_hash
    from accounted_rows
    left join target_rows
        on
            accounted_rows.cogito_id = target_rows.cogito_id
            and accounted_rows.cogito_table = target_rows.cogito_table
),

-- a row that would be missing or changed is not yet migrated when the build's snapshot did not see its version
-- (written after some node read): the snapshot test runs for those rows only (a case evaluates it lazily)
read_rows as (
    select
        checked_rows.*,
        case
            when checked_rows.is_unread then true
            when checked_rows.is_held or checked_rows.source_row_version is null then false
            when
                checked_rows.is_in_target
                and coalesce(checked_rows.source_content_hash, '')
                = coalesce(checked_rows.target_content_hash, '')
                then false
            else {{ written_after_build_read('checked_rows.source_row_version', 'build_read.source_snapshot') }}
        end as is_not_yet_migrated
    from checked_rows
    cross join build_read
),

flagged_rows as (
    select
        client_id,
        entity,
        source_key,
        is_not_yet_migrated,
        is_in_target and not is_not_yet_migrated as is_migrated,
        is_held,
        is_fallback,
        source_content_hash,
        target_content_hash,
        not is_in_target and not is_held and not is_not_yet_migrated as is_missing,
        is_in_target and is_held as is_doubly_accounted,
        is_in_target and not is_not_yet_migrated
        and coalesce(source_content_hash, '') <> coalesce(target_content_hash, '') as is_changed
    from read_rows
),

source_figures as (
    select
        client_id,
        entity,
        count(*) as source_rows,
        count(*) filter (where is_migrated) as migrated_rows,
        count(*) filter (where is_held) as held_rows,
        count(*) filter (where is_migrated and is_fallback) as fallback_rows,
        count(*) filter (where is_missing) as missing_rows,
        count(*) filter (where is_changed) as changed_rows,
        count(*) filter (where is_not_yet_migrated) as not_yet_migrated_rows,
        -- order-dependent on purpose: the same rows in the same order (by source key) hash the same
        md5(string_agg(source_content_hash, '' order by source_key) filter (
            where not is_held and not is_not_yet_migrated and source_content_hash is not null
        )) as source_content_hash,
        md5(string_agg(coalesce(target_content_hash, 'missing'), '' order by source_key) filter (
            where not is_held and not is_not_yet_migrated and source_content_hash is not null
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
        ) as mismatch_examples,
        array_to_string(
            (array_agg(source_key order by source_key) filter (where is_not_yet_migrated))[1:5], ', '
        ) as not_yet_migrated_examples
    from flagged_rows
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

combined as (
    select
        coalesce(source_figures.client_id, gone_figures.client_id) as client_id,
        clients.backstage_schema,
        coalesce(source_figures.entity, gone_figures.entity) as entity,
        coalesce(source_figures.source_rows, 0) as source_rows,
        coalesce(source_figures.migrated_rows, 0) as migrated_rows,
        coalesce(source_figures.held_rows, 0) as held_rows,
        coalesce(source_figures.fallback_rows, 0) as fallback_rows,
        coalesce(source_figures.missing_rows, 0) as missing_rows,
        coalesce(source_figures.changed_rows, 0) as changed_rows,
        coalesce(source_figures.not_yet_migrated_rows, 0) as not_yet_migrated_rows,
        coalesce(gone_figures.deleted_in_source_rows, 0) as deleted_in_source_rows,
        source_figures.source_content_hash,
        source_figures.target_content_hash,
        source_figures.mismatch_examples,
        source_figures.not_yet_migrated_examples,
        gone_figures.deleted_in_source_examples,
        (
            coalesce(source_figures.source_rows, 0)
            = coalesce(source_figures.migrated_rows, 0) + coalesce(source_figures.held_rows, 0)
            + coalesce(source_figures.not_yet_migrated_rows, 0)
            and coalesce(source_figures.changed_rows, 0) = 0
            and coalesce(source_figures.source_content_hash, '') = coalesce(source_figures.target_content_hash, '')
        ) as is_balanced
    from source_figures
    full join gone_figures
        on
            coalesce(source_figures.client_id, -1) = coalesce(gone_figures.client_id, -1)
            and source_figures.entity = gone_figures.entity
    left join clients on coalesce(source_figures.client_id, gone_figures.client_id) = clients.client_id
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
        not_yet_migrated_rows,
        deleted_in_source_rows,
        source_content_hash,
        target_content_hash,
        case
            when not is_balanced then 'mismatch'
            when deleted_in_source_rows > 0 then 'deleted_in_source'
            else 'reconciled'
        end as status,
        mismatch_examples,
        not_yet_migrated_examples,
        deleted_in_source_examples,
        -- the one readable line the build's test and `cogito-migrate verify` print for a mismatch
        case when not is_balanced then concat_ws(
                    '; ',
                    coalesce(client_id || ' ' || coalesce(backstage_schema, '(unmapped)'), '(no client)')
                    || ' '
                    || entity
                    || ': source ' || to_char(source_rows, 'FM999,999,999,990')
                    || case
                        when source_rows = migrated_rows + held_rows + not_yet_migrated_rows then ' = ' else ' != '
                    end
                    || 'migrated ' || to_char(migrated_rows, 'FM999,999,999,990')
                    || ' + held ' || to_char(held_rows, 'FM999,999,999,990')
                    || coalesce(
                        ' + not yet migrated ' || to_char(nullif(not_yet_migrated_rows, 0), 'FM999,999,999,990'), ''
                    ),
                    case when missing_rows > 0
                            then to_char(missing_rows, 'FM999,999,999,990') || ' neither migrated nor held'
                    end,
                    case
                        when changed_rows > 0 then to_char(changed_rows, 'FM999,999,999,990') || ' with other content'
                    end,
                    case when source_content_hash is distinct from target_content_hash
                            then 'content hash ' || coalesce(source_content_hash, '-') || ' != '
                                || coalesce(target_content_hash, '-')
                    end,
                    'e.g. ' || mismatch_examples
                )
        end as mismatch_summary
    from combined
)

select * from final
