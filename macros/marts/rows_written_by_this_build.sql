{#-
    Which rows the latest `dbt build` (or `dbt run`) wrote, so that the expensive data tests of a mart check those
    rows and not every row again: a re-run that writes nothing tests nothing twice, while the reconciliation still
    covers every row. A row's `xmin` is the transaction that last wrote it; every model of the build runs in a
    transaction that starts after the marker's, so those rows are no older than the marker (age() counts back from
    the current transaction, across wraparound). `--vars '{test_every_row: true}'` tests every row.
-#}

{#- on-run-start: the marker exists for every command; a build or run moves it to where it begins (`dbt test`
    alone keeps the latest build's). -#}
{% macro mark_build_start() -%}
    create schema if not exists migration;
    create table if not exists migration.build_marker (
        invocation_id text not null,
        started_at timestamptz not null,
        first_xid xid not null
    );
    comment on table migration.build_marker is
        'Where the latest dbt build began: data tests check the mart rows written since (cogito-migrate)';
    {%- if flags.WHICH in ['build', 'run'] %}
    truncate migration.build_marker;
    insert into migration.build_marker values ('{{ invocation_id }}', now(), cast(pg_current_xact_id() as xid));
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
