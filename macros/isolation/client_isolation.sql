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


{% macro enable_client_isolation(client_column='client_id') -%}
    {%- set role = adapter.quote(application_role()) -%}
    alter table {{ this }} enable row level security;
    drop policy if exists client_isolation on {{ this }};
    create policy client_isolation on {{ this }}
        for all to {{ role }}
        using ({{ adapter.quote(client_column) }} = {{ current_client_id() }})
        with check ({{ adapter.quote(client_column) }} = {{ current_client_id() }});
    grant usage on schema {{ this.schema }} to {{ role }};
    grant select, insert, update, delete on {{ this }} to {{ role }};
{%- endmacro %}
