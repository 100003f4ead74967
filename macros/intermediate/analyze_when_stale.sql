{#-
    Post-hook of the intermediate tables: `analyze` the table when its statistics no longer describe it: it was just
    created (a table rebuilt by dbt has none until autovacuum gets to it, and the marts' joins were planned blind: a
    one-row estimate turned a semi-join into a quadratic nested loop), or the rows written since its last analyze,
    this run's included, exceed autovacuum's own threshold (50 rows plus a tenth of the table). A delta run that
    rewrites 1% of a table keeps its statistics instead of sampling 30,000 rows again.
-#}
{% macro analyze_when_stale() -%}
    {%- if config.get('materialized') in ['table', 'incremental'] -%}
    do $analyze_when_stale$
    begin
        if exists (
            select
            from pg_class as analyzed
            left join pg_stat_user_tables as activity on analyzed.oid = activity.relid
            where
                analyzed.oid = '{{ this }}'::regclass
                and (
                    analyzed.reltuples < 0
                    or coalesce(activity.n_mod_since_analyze, 0)
                    + pg_stat_get_xact_tuples_inserted(analyzed.oid)
                    + pg_stat_get_xact_tuples_updated(analyzed.oid)
                    + pg_stat_get_xact_tuples_deleted(analyzed.oid)
                    > 50 + 0.1 * analyzed.reltuples
                )
        ) then
            analyze {{ this }};
        end if;
    end
    $analyze_when_stale$
    {%- endif -%}
{%- endmacro %}
