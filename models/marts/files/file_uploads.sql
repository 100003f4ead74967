with

uploads as (
    select * from {{ ref('int_file_uploads_attributed') }}
),

final as (
    select
        file_upload_id as id,
        client_id,
        filename,
        mime_type,
        file_path,
        file_size,
        public_url,
        bucket_name,
        description,
        tags,
        uploaded_at,
        jsonb_strip_nulls(jsonb_build_object(
            'client_id', client_id,
            'migrated_from', 'backstage',
            'schema_name', source_schema,
            'source_table', source_table,
            'original_upload_id', upload_id,
            'client_attribution', client_attribution,
            'storage_twin_upload_id', storage_twin_upload_id,
            'original_grp_con_id', original_grp_con_id,
            'original_turn_id', original_turn_id,
            'turn_id', turn_id,
            'block_id', block_id
        )) as metadata
    from uploads
    -- the uploads held back (no client found) are decided in int_source_rows_file_uploads
    where file_upload_id in ({{ written_source_rows('file_upload') }})
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
