-- Every upload with its client: tenant rows keep theirs, public rows take the client their bucket_name names,
-- legacy uploads keep theirs and point at their turn and block. A public row no client is found for keeps a NULL
-- client (int_source_rows_file_uploads holds it back), never dropped.
with

uploads as (
    select * from {{ ref('stg_backstage__file_uploads') }}
),

legacy_uploads as (
    select * from {{ ref('stg_backstage__legacy_uploads') }}
),

turns as (
    select * from {{ ref('int_turns_unioned') }}
),

blocks as (
    select * from {{ ref('int_blocks_nested') }}
),

-- Since late May an upload wrote two public rows: a temp-path row without bucket_name, then its storage row
-- (same file name and size, seconds later) whose bucket names the tenant. The temp row takes its twin's client.
-- (This join necessarily spans clients: the temp row's client is what it looks for.)
storage_twins as (
    select distinct on (temp_row.upload_id)
        temp_row.upload_id,
        storage_row.client_id,
        storage_row.upload_id as twin_upload_id
    from uploads as temp_row
    inner join uploads as storage_row
        on
            temp_row.filename = storage_row.filename
            and temp_row.file_size is not distinct from storage_row.file_size
            and temp_row.uploaded_at <= storage_row.uploaded_at
            and storage_row.uploaded_at <= temp_row.uploaded_at + interval '5 minutes'
            and temp_row.upload_id <> storage_row.upload_id
    where
        temp_row.is_public_upload
        and storage_row.is_public_upload
        and temp_row.client_id is null
        and nullif(temp_row.bucket_name, '') is null
        and storage_row.client_id is not null
    order by temp_row.upload_id, storage_row.uploaded_at, storage_row.upload_id
),

attributed as (
    select
        uploads.*,
        coalesce(uploads.client_id, storage_twins.client_id) as attributed_client_id,
        storage_twins.twin_upload_id
    from uploads
    left join storage_twins
        on
            uploads.is_public_upload
            and uploads.upload_id = storage_twins.upload_id
),

file_uploads as (
    select
        attributed_client_id as client_id,
        source_schema,
        'file_uploads' as source_table,
        upload_id,
        case
            when attributed_client_id is not null
                then {{ cogito_uuid(
                    'attributed_client_id', 'file_upload', 'source_schema', 'file_uploads', 'upload_id'
                ) }}
        end as file_upload_id,
        case
            when not is_public_upload then 'tenant'
            when client_id is not null then 'bucket_name'
            when attributed_client_id is not null then 'storage_twin'
        end as client_attribution,
        filename,
        mime_type,
        file_path,
        file_size,
        public_url,
        bucket_name,
        description,
        tags,
        uploaded_at,
        twin_upload_id as storage_twin_upload_id,
        cast(null as bigint) as original_grp_con_id,
        cast(null as bigint) as original_turn_id,
        cast(null as uuid) as turn_id,
        cast(null as uuid) as block_id
    from attributed
),

legacy_file_uploads as (
    select
        legacy_uploads.client_id,
        legacy_uploads.source_schema,
        'grp_con_uploads' as source_table,
        legacy_uploads.upload_id,
        {{ cogito_uuid(
            'legacy_uploads.client_id', 'file_upload', 'legacy_uploads.source_schema', 'grp_con_uploads',
            'legacy_uploads.upload_id'
        ) }} as file_upload_id,
        'legacy' as client_attribution,
        legacy_uploads.filename,
        legacy_uploads.mime_type,
        legacy_uploads.file_path,
        cast(null as bigint) as file_size,
        legacy_uploads.public_url,
        legacy_uploads.bucket_name,
        cast(null as text) as description,
        cast(null as text[]) as tags,
        legacy_uploads.uploaded_at,
        cast(null as bigint) as storage_twin_upload_id,
        legacy_uploads.grp_con_id as original_grp_con_id,
        legacy_uploads.turn_id as original_turn_id,
        turns.cogito_turn_id as turn_id,
        blocks.block_id
    from legacy_uploads
    left join turns
        on
            legacy_uploads.client_id = turns.client_id
            and turns.source_table = 'grp_con_avatar_turns'
            and legacy_uploads.turn_id = turns.turn_id
    left join blocks
        on
            legacy_uploads.client_id = blocks.client_id
            and blocks.source_table = 'grp_cons'
            and legacy_uploads.grp_con_id = blocks.source_id
),

final as (
    select * from file_uploads
    union all
    select * from legacy_file_uploads
)

select * from final
