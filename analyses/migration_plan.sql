-- What a `cogito-migrate run` would do with every Backstage row, counted without writing anything: the rows per
-- client, entity and outcome, and again per quarantine reason. Read by `cogito-migrate plan` (scripts/cogito_migrate/
-- plan.py), which compiles it with every model it reads inlined as a CTE and runs it in a read-only transaction.
-- The decision is int_source_rows' (the one the run makes); the target is what the marts hold now (nothing before
-- the first run). Outcomes:
--   held           not migrated, quarantined (its reasons hold it back)
--   new            the run would write it: no row with its uuid in its Cogito table yet
--   changed        the run would write it: in the target under another client, or with another content hash
--                  (turns, chunks, events: the only entities whose content is hashed)
--   already_there  in the target with its uuid, client and content hash: nothing to write
--   unaccounted    no uuid (the reshaping lost it): the run's reconciliation would fail
-- `disposition` tells fallback rows apart (`migrated_with_fallback`: quarantined too, but they land).
{%- set marts = [] -%}
{%- for spec in var('migration_entities').values() -%}
    {%- do marts.append(spec.cogito_table.split('.')[1]) -%}
{%- endfor %}
{{ config(meta={'reads_marts': marts}) }}
with

source_rows as (
    select * from {{ ref('int_source_rows') }}
),

-- every row of the vocabulary's Cogito tables with its client and content hash (as reconciliation computes it)
target_rows as (
    {%- for entity, spec in var('migration_entities').items() %}
        {%- set id_column = spec.get('id_column', 'id') %}
        {%- set columns = [id_column, 'client_id'] + spec.get('content_columns', []) %}
        select
            landed.{{ adapter.quote(id_column) }} as cogito_id,
            '{{ spec.cogito_table }}' as cogito_table,
            landed.client_id,
            {{ content_hash(entity, 'landed') }} as content_hash
        from (
            {{ migrated_rows(spec.cogito_table.split('.')[1], columns) }}
        ) as landed
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

classified as (
    select
        source_rows.client_id,
        source_rows.entity,
        source_rows.disposition,
        source_rows.reasons,
        case
            when source_rows.disposition = 'held' then 'held'
            when source_rows.cogito_id is null then 'unaccounted'
            when target_rows.cogito_id is null then 'new'
            -- a row kept as it was last migrated (not written this run) stays as it is
            when
                source_rows.is_written
                and (
                    source_rows.client_id is distinct from target_rows.client_id
                    or source_rows.content_hash is distinct from target_rows.content_hash
                )
                then 'changed'
            else 'already_there'
        end as outcome
    from source_rows
    left join target_rows
        on
            source_rows.cogito_id = target_rows.cogito_id
            and source_rows.cogito_table = target_rows.cogito_table
),

by_outcome as (
    select
        client_id,
        entity,
        outcome,
        disposition,
        cast(null as text) as reason,
        count(*) as source_rows
    from classified
    group by client_id, entity, outcome, disposition
),

-- one count per reason: a row with two reasons counts under each (as in migration.quarantine)
by_reason as (
    select
        classified.client_id,
        classified.entity,
        classified.outcome,
        classified.disposition,
        reason.reason_key as reason,
        count(*) as source_rows
    from classified
    cross join lateral jsonb_object_keys(classified.reasons) as reason (reason_key)
    group by classified.client_id, classified.entity, classified.outcome, classified.disposition, reason.reason_key
)

select * from by_outcome
union all
select * from by_reason
