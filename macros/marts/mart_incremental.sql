{#-
    Incremental marts merge on their uuid key and never delete. On an incremental run the model only hands the
    merge the rows that are new or differ from what the target holds, so a re-run over an unchanged source
    writes nothing at all. Columns listed in `merge_exclude_columns` (state Cogito owns after cutover, such as
    `last_login`) are neither compared nor overwritten.

    Usage, as the last clause of a mart: `select * from final as candidate {{ only_new_or_changed_rows() }}`.
-#}

{% macro only_new_or_changed_rows(alias='candidate') -%}
    {%- if is_incremental() -%}
        {%- set key = config.get('unique_key') -%}
        {%- set keys = [key] if key is string else key -%}
        {%- set excluded = config.get('merge_exclude_columns') or [] -%}
        {%- set compared = [] -%}
        {%- for column in model.columns.keys() if column not in excluded and column not in keys -%}
            {%- do compared.append(adapter.quote(column)) -%}
        {%- endfor %}
    where not exists (
        select
        from {{ this }} as existing
        where
            {% for k in keys -%}
            existing.{{ adapter.quote(k) }} = {{ alias }}.{{ adapter.quote(k) }}
            and {% endfor -%}
            row({% for c in compared %}existing.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
            is not distinct from
            row({% for c in compared %}{{ alias }}.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
    )
    {%- endif -%}
{%- endmacro %}


{#-
    The rows a mart holds before this run writes (the given contract columns, optionally filtered), or, before the
    mart exists, an empty relation with the same columns and types (from its contract). Reads the mart's table
    without `ref`: it is the target's state that a mart itself, or a decision upstream of it (e.g. an email another
    user holds), compares with. Usage, as a CTE body: `held as ({{ migrated_rows('users', ['id', 'email']) }})`.
    A model reading another mart declares it, `meta: {reads_marts: [users]}`: dbt's graph cannot show the read (the
    mart is downstream), and a re-run decides from that declaration whether the model must run (build_scope.py).
-#}
{% macro migrated_rows(mart_name, columns, where=none) -%}
    {%- set relation = none -%}
    {%- set contract = {} -%}
    {%- if execute -%}
        {%- if graph.nodes is not defined -%}
            {{ exceptions.raise_compiler_error(
                "migrated_rows('" ~ mart_name ~ "') reads the target, which a unit test must not: override it"
            ) }}
        {%- endif -%}
        {%- if mart_name != model.name and mart_name not in (config.get('meta', {}).get('reads_marts') or []) -%}
            {{ exceptions.raise_compiler_error(
                model.name ~ " reads the mart " ~ mart_name ~ " (migrated_rows) without declaring it: add "
                ~ mart_name ~ " to its config's meta.reads_marts"
            ) }}
        {%- endif -%}
        {%- set node = graph.nodes['model.' ~ project_name ~ '.' ~ mart_name] -%}
        {%- set contract = node.columns -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- endif -%}
    {%- if relation is not none %}
        select
        {%- for column in columns %}
            {{ adapter.quote(column) }}{{ ',' if not loop.last }}
        {%- endfor %}
        from {{ relation }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
    {%- else %}
        select
        {%- for column in columns %}
            {#- the contract is only known at execution; parsing needs no types #}
            {%- set data_type = contract[column].data_type if column in contract else 'text' %}
            cast(null as {{ data_type }}) as {{ adapter.quote(column) }}{{ ',' if not loop.last }}
        {%- endfor %}
        where false
    {%- endif %}
{%- endmacro %}


{#- This mart's own rows before this run: `migrated_rows` of the model being built. -#}
{% macro previous_rows(columns, where=none) -%}
    {{ migrated_rows(model.name, columns, where) }}
{%- endmacro %}


{#-
    Was the source row (its xmin, `source_row_version`) written after the target row (its xmin)? Then the target may
    not reflect it. Both are transaction ids of one cluster; age() counts back from the current transaction, so the
    comparison holds across wraparound (within the 2 billion transactions PostgreSQL keeps comparable). A row
    without a version (none recorded) counts as changed. `--vars '{compare_every_row: true}'` compares every row.
-#}
{% macro written_after(source_version, target_xmin) -%}
    {%- if var('compare_every_row', false) -%}
        true
    {%- else -%}
        ({{ source_version }} is null or age({{ source_version }}) < age({{ target_xmin }}))
    {%- endif -%}
{%- endmacro %}
