-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('file_upload_vectors', include_tenants=true, include_public=true) }}
),

public_uploads as (
    {{ backstage_union('file_uploads', include_tenants=false, include_public=true) }}
),

-- the only join: a public chunk takes the client of its public upload (by bucket_name)
tagged as (
    select
        source.*,
        case
            when source.source_schema = 'public' then {{ backstage_client_id_for_schema('public_uploads.bucket_name') }}
            else source.client_id
        end as tagged_client_id
    from source
    left join public_uploads
        on
            source.source_schema = 'public'
            and source.file_upload_id = public_uploads.id
),

renamed as (
    select
        -- ids
        tagged_client_id as client_id,
        source_schema,
        id as chunk_id,
        file_upload_id as upload_id,

        -- content
        chunk_index,
        content_text,
        content_vector,
        {{ backstage_is_zero_vector('content_vector') }} as is_zero_vector,

        -- timestamps
        created_at
    from tagged
)

select * from renamed
