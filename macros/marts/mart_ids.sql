{#-
    The uuid of each kind of Cogito row, in one place, so that every model that points at a participant,
    user or block computes exactly the id the row itself carries. All wrap cogito_uuid (RFC 9562 v3).
-#}

{#- A person's login in one client: keyed by the global person, per client. -#}
{% macro user_uuid(client_id, participant_id) -%}
    {{ cogito_uuid(client_id, 'user', "'public'", 'participants', participant_id) }}
{%- endmacro %}

{#- A person speaking in one client (the human participant). -#}
{% macro human_participant_uuid(client_id, participant_id) -%}
    {{ cogito_uuid(client_id, 'participant', "'public'", 'participants', participant_id) }}
{%- endmacro %}

{#- A tenant avatar (avatar ids are per schema). -#}
{% macro avatar_participant_uuid(client_id, schema, avatar_id) -%}
    {{ cogito_uuid(client_id, 'participant', schema, 'avatars', avatar_id) }}
{%- endmacro %}

{#- A global LLM speaking in one client. -#}
{% macro llm_participant_uuid(client_id, llm_id) -%}
    {{ cogito_uuid(client_id, 'participant', "'public'", 'llms', llm_id) }}
{%- endmacro %}

{#- The one speaker of a client that stands in where nothing resolves (no Backstage row behind it). -#}
{% macro unknown_participant_uuid(client_id, schema) -%}
    {{ cogito_uuid(client_id, 'participant', schema, 'unknown_speaker', "'unknown'") }}
{%- endmacro %}

{#- The block of a topic (topic layout). -#}
{% macro topic_block_uuid(client_id, schema, topic_id) -%}
    {{ cogito_uuid(client_id, 'block', schema, 'topic_paths', topic_id) }}
{%- endmacro %}

{#- The block of a legacy conversation. -#}
{% macro conversation_block_uuid(client_id, schema, grp_con_id) -%}
    {{ cogito_uuid(client_id, 'block', schema, 'grp_cons', grp_con_id) }}
{%- endmacro %}

{#- The client's one block of turns whose topic or conversation is gone. -#}
{% macro unfiled_block_uuid(client_id, schema) -%}
    {{ cogito_uuid(client_id, 'block', schema, 'unfiled_block', "'unfiled'") }}
{%- endmacro %}

{#-
    The migrated tenants as a relation (client_id, backstage_schema, layout): the generated Backstage sources
    whose meta says migrate, with the layout discovery detected. Empty before discovery has run.
-#}
{% macro migrated_tenants_relation() -%}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values()
            if node.package_name == project_name and node.meta.get('backstage_kind') == 'tenant'
            and node.meta.get('migrate') and node.meta.get('client_id') is not none -%}
            {%- set row = (node.meta.get('client_id') | int, node.schema, node.meta.get('layout')) -%}
            {%- if row not in rows -%}
                {%- do rows.append(row) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if rows %}
    select client_id, backstage_schema, layout
    from (
        values
        {%- for client_id, schema_name, layout in rows | sort %}
            ({{ client_id }}, {{ backstage_literal(schema_name) }}, {{ backstage_literal(layout) }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as tenants (client_id, backstage_schema, layout)
    {%- else %}
    select cast(null as integer) as client_id, cast(null as text) as backstage_schema, cast(null as text) as layout
    where false
    {%- endif %}
{%- endmacro %}
