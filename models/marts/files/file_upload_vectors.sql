with

chunks as (
    select * from {{ ref('int_file_chunks_attributed') }}
),

final as (
    select
        file_upload_vector_id as id,
        client_id,
        file_upload_id,
        chunk_index,
        content_text,
        content_vector,
        created_at,
        jsonb_build_object(
            'client_id', client_id,
            'migrated_from', 'backstage',
            'schema_name', source_schema,
            'source_table', source_table,
            'original_chunk_id', chunk_id,
            'original_upload_id', upload_id,
            'content_vector_placeholder', is_placeholder_vector,
            'content_vector_was_zero', is_zero_vector
        ) as metadata
    from chunks
    -- the chunks held back are decided in int_source_rows_file_upload_vectors
    where file_upload_vector_id in ({{ written_source_rows('file_upload_vector') }})
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
