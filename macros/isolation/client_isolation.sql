{#-
    Row-level security for Cogito's application role: it sees and writes only the rows of the client named by
    `current_setting('app.client_id')`, and nothing when that is unset. Superusers and the table owner (the
    migration) bypass these policies, so the migration itself is unaffected.
-#}

{% macro application_role() -%}
    {{ return(var('application_role', 'cogito_app')) }}
{%- endmacro %}


{% macro create_application_role() -%}
    do $$
    begin
        if not exists (select from pg_roles where rolname = {{ backstage_literal(application_role()) }}) then
            create role {{ adapter.quote(application_role()) }} nologin;
        end if;
    end
    $$;
{%- endmacro %}


{#- The client the session is scoped to; NULL (so no row matches) when app.client_id is unset or empty. -#}
{% macro current_client_id() -%}
    nullif(current_setting('app.client_id', true), '')::int
{%- endmacro %}


{% macro enable_client_isolation(client_column='client_id', shared_rows_readable=false) -%}
    {%- set role = adapter.quote(application_role()) -%}
    alter table {{ this }} enable row level security;
    drop policy if exists client_isolation on {{ this }};
    create policy client_isolation on {{ this }}
        for all to {{ role }}
        using ({{ adapter.quote(client_column) }} = {{ current_client_id() }})
        with check ({{ adapter.quote(client_column) }} = {{ current_client_id() }});
    drop policy if exists shared_rows_readable on {{ this }};
    {%- if shared_rows_readable %}
    {#- rows of no client (a shared catalogue): readable by every client, writable by none -#}
    create policy shared_rows_readable on {{ this }}
        for select to {{ role }}
        using ({{ adapter.quote(client_column) }} is null);
    {%- endif %}
    grant select, insert, update, delete on {{ this }} to {{ role }};
{%- endmacro %}


{#-
    Schema usage for the application role, once per run (on-run-end) rather than in every mart's post-hook: marts
    build in parallel, and two concurrent GRANTs on the same schema fail with "tuple concurrently updated".
    Schemas of marts this run did not create (a partial selection) are skipped.
-#}
{% macro grant_application_schema_usage() -%}
    {%- set schemas = [] -%}
    {%- if execute -%}  {#- the graph is only filled in when the hook runs, not while parsing -#}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.fqn[1] == 'marts' and node.schema not in schemas -%}
            {%- do schemas.append(node.schema) -%}
        {%- endfor -%}
    {%- endif %}
    do $$
    begin
        null;
        {%- for schema in schemas %}
        if exists (select from pg_namespace where nspname = {{ backstage_literal(schema) }}) then
            grant usage on schema {{ adapter.quote(schema) }} to {{ adapter.quote(application_role()) }};
        end if;
        {%- endfor %}
    end
    $$;
{%- endmacro %}
