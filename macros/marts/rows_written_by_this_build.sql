{#-
    Which rows the builds since the last fully tested one wrote, so that the expensive data tests of a mart check
    those rows and not every row again: a re-run that writes nothing tests nothing twice, while the reconciliation
    still covers every row. A row's `xmin` is the transaction that last wrote it; every model of a build runs in a
    transaction that starts after the build's marker, so those rows are no older than the marker (age() counts back
    from the current transaction, across wraparound). `--vars '{test_every_row: true}'` tests every row.
    A build whose tests failed (or that died) keeps its marker until a build passes every node: the rows it wrote
    are tested again by every later build, even one that writes nothing, so a failure is never forgotten because
    the next build had nothing new to write.
-#}

{#- on-run-start: the markers exist for every command; a build or run adds its own, after dropping the marker of
    the last build that passed (`dbt test` alone adds none, nor does verify's recomputation of the reconciliation,
    `keep_build_marker`: it is not a build). `source_snapshot` is what every node of the build can see of
    Backstage: a row whose version is not visible in it was written while the build read (the reconciliation calls
    it not yet migrated). -#}
{% macro mark_build_start() -%}
    create schema if not exists migration;
    {# DDL only when the table is missing or lacks a column: each statement locks the table. The columns added since
       the table first shipped are added here, to a new table as to an old one. -#}
    do $mark_build_start$
    declare
        missing record;
    begin
        if to_regclass('migration.build_marker') is null then
            create table migration.build_marker (
                invocation_id text not null,
                started_at timestamptz not null,
                first_xid xid not null
            );
            comment on table migration.build_marker is
                'Where the builds since the last one that passed began: data tests check the mart rows written '
                'since, the reconciliation tells source rows written while the latest build read (cogito-migrate)';
        end if;
        for missing in
            select later.column_name, later.definition
            from (
                values ('source_snapshot', 'pg_snapshot'), ('passed', 'boolean not null default false')
            ) as later (column_name, definition)
            where not exists (
                select from information_schema.columns
                where
                    table_schema = 'migration' and table_name = 'build_marker'
                    and column_name = later.column_name
            )
        loop
            execute format('alter table migration.build_marker add column %I %s', missing.column_name,
                missing.definition);
        end loop;
    end
    $mark_build_start$;
    {%- if flags.WHICH in ['build', 'run'] and not var('keep_build_marker', false) %}
    delete from migration.build_marker where passed;
    insert into migration.build_marker (invocation_id, started_at, first_xid, source_snapshot)
    values ('{{ invocation_id }}', now(), cast(pg_current_xact_id() as xid), pg_current_snapshot());
    {%- endif -%}
{%- endmacro %}


{#- on-run-end: a `dbt build` whose every node passed has tested what the builds before it wrote: its marker alone
    stays, marked passed, and the next build starts after it. A `dbt run` tests nothing and keeps every marker. -#}
{% macro mark_build_passed(results) -%}
    {%- set unfinished = results | rejectattr('status', 'in', ['success', 'pass', 'warn', 'no-op']) | list -%}
    {%- if flags.WHICH == 'build' and not var('keep_build_marker', false) and not unfinished %}
    delete from migration.build_marker where invocation_id <> '{{ invocation_id }}';
    update migration.build_marker set passed = true where invocation_id = '{{ invocation_id }}';
    {%- endif -%}
{%- endmacro %}


{#- True for a row of `alias` (a table) written since the earliest build that has not passed began (every row
    before any build marked one), or for every row on request. -#}
{% macro written_by_this_build(alias) -%}
    {%- if var('test_every_row', false) -%}
        true
    {%- else -%}
        age({{ alias }}.xmin) <= coalesce((select max(age(first_xid)) from migration.build_marker), 2147483647)
    {%- endif -%}
{%- endmacro %}


{#-
    Was a Backstage row's version (its xmin, `source_row_version`) written after the latest build took its source
    snapshot, i.e. by a transaction that snapshot does not see? The 32-bit xid is widened to the xid8 nearest below
    the snapshot's xmax (a visible or later row was written less than 2^31 transactions before it: PostgreSQL
    refuses to go further without freezing, and the dump is restored within the migration's weeks), then
    pg_visible_in_snapshot answers exactly, in-progress transactions included. A frozen row keeps its raw xmin,
    so only a row written more than 2^31 transactions ago could be misread; NULL (no version, no snapshot) counts
    as read, so a missing row is never excused for want of a marker.
-#}
{% macro written_after_build_read(source_version, snapshot) -%}
    coalesce(not pg_visible_in_snapshot(
        cast(cast(
            cast(cast(pg_snapshot_xmax({{ snapshot }}) as text) as bigint)
            - ((cast(cast(pg_snapshot_xmax({{ snapshot }}) as text) as bigint) % 4294967296
                - cast(cast({{ source_version }} as text) as bigint) + 4294967296) % 4294967296)
        as text) as xid8),
        {{ snapshot }}
    ), false)
{%- endmacro %}
