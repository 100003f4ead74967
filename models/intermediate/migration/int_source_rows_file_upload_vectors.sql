-- Every Backstage file chunk (tenant, public, legacy) lands as a file upload vector, decided once: held when its
-- upload is gone or held back, or its index is missing or repeated (the lowest chunk id at an index lands); an
-- all-zero embedding lands as NULL.
with

file_chunks as (
    select * from {{ ref('stg_backstage__file_upload_vectors') }}
),

legacy_chunks as (
    select * from {{ ref('stg_backstage__legacy_upload_vectors') }}
),

chunks as (
    select * from {{ ref('int_file_chunks_attributed') }}
),

-- read from staging, not the attributed chunks, so the reconciliation checks the reshaping too
unioned as (
    select
        client_id,
        source_schema,
        'file_upload_vectors' as source_table,
        chunk_id,
        content_text
    from file_chunks
    union all
    select
        client_id,
        source_schema,
        'grp_con_upload_vectors' as source_table,
        chunk_id,
        content_text
    from legacy_chunks
),

-- the one reason a chunk is held back, if any (the first that applies)
held as (
    select
        -- the client the upload's attribution found (public chunks: their upload's)
        coalesce(chunks.client_id, unioned.client_id) as client_id,
        unioned.source_schema,
        unioned.source_table,
        unioned.chunk_id,
        unioned.content_text,
        chunks.file_upload_vector_id,
        chunks.upload_id,
        chunks.chunk_index,
        chunks.is_zero_vector,
        case
            when chunks.chunk_id is null then null
            when not chunks.upload_exists then 'missing_file_upload'
            when not chunks.is_upload_attributable then 'unattributable_file'
            when chunks.chunk_index is null then 'missing_chunk_index'
            when not chunks.is_first_at_its_index then 'duplicate_chunk_index'
        end as held_reason
    from unioned
    left join chunks
        on
            unioned.source_schema = chunks.source_schema
            and unioned.source_table = chunks.source_table
            and unioned.chunk_id = chunks.chunk_id
),

reasoned as (
    select
        held.client_id,
        'file_upload_vector' as entity,
        held.source_schema,
        held.source_table,
        cast(held.chunk_id as text) as source_id,
        {{ cogito_table_of('file_upload_vector') }} as cogito_table,
        held.file_upload_vector_id as cogito_id,
        held.client_id as key_client_id,
        {{ content_hash('file_upload_vector', 'held') }} as content_hash,
        case
            when held.held_reason is not null
                then jsonb_build_object(held.held_reason, jsonb_strip_nulls(jsonb_build_object(
                        'chunk_id', held.chunk_id,
                        'upload_id', held.upload_id,
                        'chunk_index', held.chunk_index,
                        'kept_chunk_for_index', case
                            when held.held_reason = 'duplicate_chunk_index' then 'lowest chunk id'
                        end
                    )))
            -- an all-zero vector is a failed embedding: it lands as NULL
            when held.is_zero_vector
                then jsonb_build_object('zero_vector', jsonb_build_object(
                        'chunk_id', held.chunk_id, 'fallback', 'content_vector NULL'
                    ))
            else cast('{}' as jsonb)
        end as reasons
    from held
)

select
    *,
    {{ source_row_decision('file_upload_vector') }}
from reasoned
