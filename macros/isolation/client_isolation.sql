{#-
    Row-level security for Cogito's application role: it sees and writes only the rows of the client named by
    `current_setting('app.client_id')`, and nothing when that is unset. Superusers and the table owner (the
    migration) bypass these policies, so the migration itself is unaffected.
-#}

{% macro application_role() -%}
    {{ return(var('application_role', 'cogito_app')) }}
{%- endmacro %}


{#-
    The analysts' role (var `analyst_role`): it reads the staging views (secrets already stripped) and the lens
    tables, granted by the `grants` config of those folders (dbt_project.yml), and nothing else: not the Backstage
    tables the views read (API keys live there; a view reads them with its owner's rights), not the restricted
    schema, not the Cogito tables (password hashes).
-#}
{% macro analyst_role() -%}
    {{ return(var('analyst_role', 'cogito_analyst')) }}
{%- endmacro %}


{#- The application and analyst roles, made when missing (nologin: a person or the application logs in as a role
    of its own that is granted one of them). Runs at the start of every dbt run, before any grant names them. -#}
{% macro create_application_role() -%}
    do $$
    begin
        {%- for role in [application_role(), analyst_role()] %}
        if not exists (select from pg_roles where rolname = {{ backstage_literal(role) }}) then
            create role {{ adapter.quote(role) }} nologin;
        end if;
        {%- endfor %}
    end
    $$;
{%- endmacro %}


{#- The client the session is scoped to; NULL (so no row matches) when app.client_id is unset or empty. -#}
{% macro current_client_id() -%}
    nullif(current_setting('app.client_id', true), '')::int
{%- endmacro %}


{#-
    Row-level security, its policies and the role's privileges on the mart being built. Post-hooks run after every
    build; each statement is rendered only when the table lacks what it makes: `alter table`, `create policy` and
    `drop policy` take an ACCESS EXCLUSIVE lock, which on a live table would stop the application's readers (and
    queue them behind any open transaction) on every run. A policy carries the md5 of its definition in its comment,
    so a changed definition is made again.
-#}
{% macro enable_client_isolation(client_column='client_id', shared_rows_readable=false) -%}
    {%- set role = adapter.quote(application_role()) -%}
    {%- set policies = {} -%}
    {%- do policies.update({'client_isolation':
        'for all to ' ~ role ~ ' using (' ~ adapter.quote(client_column) ~ ' = ' ~ current_client_id() ~ ')'
        ~ ' with check (' ~ adapter.quote(client_column) ~ ' = ' ~ current_client_id() ~ ')'}) -%}
    {%- if shared_rows_readable -%}
        {#- rows of no client (a shared catalogue): readable by every client, writable by none -#}
        {%- do policies.update({'shared_rows_readable':
            'for select to ' ~ role ~ ' using (' ~ adapter.quote(client_column) ~ ' is null)'}) -%}
    {%- endif -%}
    {%- set state = client_isolation_state() -%}
    {%- if not state.row_security %}
    alter table {{ this }} enable row level security;
    {%- endif %}
    {%- for name in ['client_isolation', 'shared_rows_readable'] %}
        {%- set marker = 'cogito-migrate ' ~ local_md5(policies.get(name, '')) %}
        {%- if name in policies and state.policies.get(name) != marker %}
    drop policy if exists {{ name }} on {{ this }};
    create policy {{ name }} on {{ this }} {{ policies[name] }};
    comment on policy {{ name }} on {{ this }} is '{{ marker }}';
        {%- elif name not in policies and name in state.policies %}
    drop policy {{ name }} on {{ this }};
        {%- endif %}
    {%- endfor %}
    {%- if not state.privileges %}
    grant select, insert, update, delete on {{ this }} to {{ role }};
    {%- endif %}
{%- endmacro %}


{#- What the mart has of its isolation now (at run time; while parsing: nothing, and nothing runs). -#}
{% macro client_isolation_state() -%}
    {%- set state = {'row_security': false, 'policies': {}, 'privileges': false} -%}
    {%- if execute -%}
        {%- set table = backstage_literal(this.render()) -%}
        {%- set role = backstage_literal(application_role()) -%}
        {%- set found = run_query(
            "select relation.relrowsecurity, "
            ~ "coalesce((select jsonb_object_agg(policy.polname, coalesce(obj_description(policy.oid, 'pg_policy'), ''))"
            ~ " from pg_policy as policy where policy.polrelid = relation.oid), '{}')::text, "
            ~ "has_table_privilege(" ~ role ~ ", relation.oid, 'select') and has_table_privilege(" ~ role
            ~ ", relation.oid, 'insert') and has_table_privilege(" ~ role ~ ", relation.oid, 'update')"
            ~ " and has_table_privilege(" ~ role ~ ", relation.oid, 'delete') "
            ~ "from pg_class as relation where relation.oid = to_regclass(" ~ table ~ ")"
        ) -%}
        {%- if found.rows | length > 0 -%}
            {%- set row = found.rows[0] -%}
            {%- do state.update({'row_security': row[0], 'policies': fromjson(row[1]), 'privileges': row[2]}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(state) }}
{%- endmacro %}


{#-
    Schema usage, once per run (on-run-end) rather than in every model's post-hook: models build in parallel, and
    two concurrent GRANTs on the same schema fail with "tuple concurrently updated". The application role gets the
    marts' schemas, the analyst role the schemas of the models granted to it. Schemas this run did not create (a
    partial selection) are skipped.
-#}
{% macro grant_application_schema_usage() -%}
    {%- set usage = [] -%}
    {%- if execute -%}  {#- the graph is only filled in when the hook runs, not while parsing -#}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
            {%- set roles = [application_role()] if node.fqn[1] == 'marts' else [] -%}
            {#- the analysts: the schemas of the models granted to them -#}
            {%- set roles = roles + ([analyst_role()] if analyst_role() in (node.config.grants.get('select') or [])
                else []) -%}
            {%- for role in roles if (node.schema, role) not in usage -%}
                {%- do usage.append((node.schema, role)) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif %}
    do $$
    begin
        null;
        {%- for schema, role in usage %}
        if exists (select from pg_namespace where nspname = {{ backstage_literal(schema) }}) then
            grant usage on schema {{ adapter.quote(schema) }} to {{ adapter.quote(role) }};
        end if;
        {%- endfor %}
    end
    $$;
{%- endmacro %}
