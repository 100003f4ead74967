{#-
    Which rows the latest `dbt build` (or `dbt run`) wrote, so that the expensive data tests of a mart check those
    rows and not every row again: a re-run that writes nothing tests nothing twice, while the reconciliation still
    covers every row. A row's `xmin` is the transaction that last wrote it; every model of the build runs in a
    transaction that starts after the marker's, so those rows are no older than the marker (age() counts back from
    the current transaction, across wraparound). `--vars '{test_every_row: true}'` tests every row.
-#}

{#- on-run-start: the marker exists for every command; a build or run moves it to where it begins (`dbt test`
    alone keeps the latest build's, and so does verify's recomputation of the reconciliation, `keep_build_marker`:
    it is not a build). `source_snapshot` is what every node of the build can see of Backstage: a row whose version
    is not visible in it was written while the build read (the reconciliation calls it not yet migrated). -#}
{% macro mark_build_start() -%}
    create schema if not exists migration;
    create table if not exists migration.build_marker (
        invocation_id text not null,
        started_at timestamptz not null,
        first_xid xid not null
    );
    alter table migration.build_marker add column if not exists source_snapshot pg_snapshot;
    comment on table migration.build_marker is
        'Where the latest dbt build began: data tests check the mart rows written since, the reconciliation tells '
        'source rows written while it read (cogito-migrate)';
    {%- if flags.WHICH in ['build', 'run'] and not var('keep_build_marker', false) %}
    truncate migration.build_marker;
    insert into migration.build_marker
    values ('{{ invocation_id }}', now(), cast(pg_current_xact_id() as xid), pg_current_snapshot());
    {%- endif -%}
{%- endmacro %}


{#- True for a row of `alias` (a table) written since the latest build began (every row before any build marked
    one), or for every row on request. -#}
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
