-- One record per Backstage row the migration answers for: its entity, client and source key, the Cogito row it
-- becomes (table and uuid), its content hash, and the decision made once in int_source_rows_<entity>: `migrated`,
-- `migrated_with_fallback` or `held`, with every reason and its evidence. The marts, the id map, the quarantine and
-- the reconciliation read this decision; none re-derives it.
{{ config(
    materialized='table',
    indexes=[{'columns': ['cogito_id']}, {'columns': ['entity', 'disposition']}]
) }}
{%- set entity_models = [
    'int_source_rows_users', 'int_source_rows_participants', 'int_source_rows_blocks', 'int_source_rows_turns',
    'int_source_rows_file_uploads', 'int_source_rows_file_upload_vectors', 'int_source_rows_participant_events'
] %}
with

unioned as (
    {%- for entity_model in entity_models %}
        select
            client_id,
            entity,
            source_schema,
            source_table,
            source_id,
            cogito_table,
            cogito_id,
            key_client_id,
            content_hash,
            reasons,
            disposition,
            is_written,
            {#- only turns carry their Backstage row's version (its xmin) so far -#}
            {{ 'source_row_version' if entity_model == 'int_source_rows_turns'
                else 'cast(null as xid) as source_row_version' }}
        from {{ ref(entity_model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        client_id,
        entity,
        source_schema,
        source_table,
        source_id,
        source_schema || '.' || source_table || '.' || source_id as source_key,
        cogito_table,
        cogito_id,
        {{ cogito_uuid_key_from_parts('key_client_id', 'entity', 'source_schema', 'source_table', 'source_id') }}
            as id_key,
        content_hash,
        reasons,
        disposition,
        is_written,
        source_row_version
    from unioned
)

select * from final
