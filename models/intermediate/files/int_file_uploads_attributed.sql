-- Every upload with its client: tenant rows keep theirs, public rows take the client their bucket_name names,
-- legacy uploads keep theirs and point at their turn and block. Unattributable public rows are flagged, not dropped.
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

file_uploads as (
    select
        client_id,
        source_schema,
        'file_uploads' as source_table,
        upload_id,
        case
            when client_id is not null
                then {{ cogito_uuid('client_id', 'file_upload', 'source_schema', 'file_uploads', 'upload_id') }}
        end as file_upload_id,
        case
            when not is_public_upload then 'tenant'
            when client_id is not null then 'bucket_name'
        end as client_attribution,
        client_id is not null as is_attributable,
        filename,
        mime_type,
        file_path,
        file_size,
        public_url,
        bucket_name,
        description,
        tags,
        uploaded_at,
        cast(null as bigint) as original_grp_con_id,
        cast(null as bigint) as original_turn_id,
        cast(null as uuid) as turn_id,
        cast(null as uuid) as block_id
    from uploads
),

legacy_file_uploads as (
    select
        legacy_uploads.client_id,
        legacy_uploads.source_schema,
        'grp_con_uploads' as source_table,
        legacy_uploads.upload_id,
        {{ cogito_uuid('legacy_uploads.client_id', 'file_upload', 'legacy_uploads.source_schema', 'grp_con_uploads', 'legacy_uploads.upload_id') }}
            as file_upload_id,
        'legacy' as client_attribution,
        true as is_attributable,
        legacy_uploads.filename,
        legacy_uploads.mime_type,
        legacy_uploads.file_path,
        cast(null as bigint) as file_size,
        legacy_uploads.public_url,
        legacy_uploads.bucket_name,
        cast(null as text) as description,
        cast(null as text []) as tags,
        legacy_uploads.uploaded_at,
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
