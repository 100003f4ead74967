-- Every file chunk with its upload's client and uuid, and the facts that decide whether it can land (its upload
-- found and attributable, its place among the chunks at the same index): int_source_rows_file_upload_vectors decides.
with

chunks as (
    select * from {{ ref('stg_backstage__file_upload_vectors') }}
),

legacy_chunks as (
    select * from {{ ref('stg_backstage__legacy_upload_vectors') }}
),

uploads as (
    select * from {{ ref('int_file_uploads_attributed') }}
),

unioned as (
    select
        client_id as chunk_client_id,
        source_schema,
        'file_upload_vectors' as source_table,
        'file_uploads' as upload_table,
        chunk_id,
        upload_id,
        chunk_index,
        content_text,
        content_vector,
        coalesce(is_zero_vector, false) as is_zero_vector,
        false as is_placeholder_vector,
        created_at
    from chunks
    union all
    select
        client_id as chunk_client_id,
        source_schema,
        'grp_con_upload_vectors' as source_table,
        'grp_con_uploads' as upload_table,
        chunk_id,
        upload_id,
        chunk_index,
        content_text,
        content_vector,
        coalesce(is_zero_vector, false) as is_zero_vector,
        -- legacy-layout vectors predate real embeddings: hash placeholders
        content_vector is not null as is_placeholder_vector,
        cast(null as timestamptz) as created_at
    from legacy_chunks
),

-- the upload is found by schema, table and id (public chunks belong to public uploads, whatever their client)
joined as (
    select
        coalesce(uploads.client_id, unioned.chunk_client_id) as client_id,
        unioned.*,
        uploads.file_upload_id,
        uploads.client_id is not null as upload_is_attributable,
        uploads.upload_id is not null as upload_exists,
        coalesce(unioned.created_at, uploads.uploaded_at) as landed_created_at,
        row_number() over (
            partition by
                coalesce(uploads.client_id, unioned.chunk_client_id), uploads.file_upload_id, unioned.chunk_index
            order by unioned.chunk_id
        ) as chunk_index_rank
    from unioned
    left join uploads
        on
            unioned.source_schema = uploads.source_schema
            and unioned.upload_table = uploads.source_table
            and unioned.upload_id = uploads.upload_id
),

final as (
    select
        client_id,
        source_schema,
        source_table,
        chunk_id,
        upload_id,
        file_upload_id,
        case
            when client_id is not null
                then {{ cogito_uuid_from_parts(
                    'client_id', "'file_upload_vector'", 'source_schema', 'source_table', 'chunk_id'
                ) }}
        end as file_upload_vector_id,
        chunk_index,
        content_text,
        case when is_zero_vector then null else content_vector end as content_vector,
        is_zero_vector,
        is_placeholder_vector,
        landed_created_at as created_at,
        upload_exists,
        coalesce(upload_is_attributable, false) as is_upload_attributable,
        chunk_index_rank = 1 as is_first_at_its_index
    from joined
)

select * from final
