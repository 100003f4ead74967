-- Every Backstage upload (tenant, public, legacy) lands as a file upload, decided once: a public upload no client
-- can be found for (its bucket_name names none, and no storage twin does) is held back.
with

file_uploads as (
    select * from {{ ref('stg_backstage__file_uploads') }}
),

legacy_uploads as (
    select * from {{ ref('stg_backstage__legacy_uploads') }}
),

uploads as (
    select * from {{ ref('int_file_uploads_attributed') }}
),

unioned as (
    select
        client_id,
        source_schema,
        'file_uploads' as source_table,
        upload_id
    from file_uploads
    union all
    select
        client_id,
        source_schema,
        'grp_con_uploads' as source_table,
        upload_id
    from legacy_uploads
),

reasoned as (
    select
        -- the client the attribution found (public rows: by bucket or storage twin)
        coalesce(uploads.client_id, unioned.client_id) as client_id,
        'file_upload' as entity,
        unioned.source_schema,
        unioned.source_table,
        cast(unioned.upload_id as text) as source_id,
        {{ cogito_table_of('file_upload') }} as cogito_table,
        uploads.file_upload_id as cogito_id,
        coalesce(uploads.client_id, unioned.client_id) as key_client_id,
        {{ content_hash('file_upload', 'uploads') }} as content_hash,
        jsonb_strip_nulls(jsonb_build_object(
            'unattributable_file', case when uploads.upload_id is not null and uploads.client_id is null
                    then jsonb_build_object(
                            'upload_id', uploads.upload_id,
                            'bucket_name', uploads.bucket_name
                        )
            end
        )) as reasons
    from unioned
    left join uploads
        on
            unioned.source_schema = uploads.source_schema
            and unioned.source_table = uploads.source_table
            and unioned.upload_id = uploads.upload_id
)

select
    *,
    {{ source_row_decision('file_upload') }}
from reasoned
