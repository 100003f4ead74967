-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('file_uploads', include_tenants=true, include_public=true) }}
),

renamed as (
    select
        -- ids: public rows take the client whose schema their bucket_name names (else NULL)
        case
            when source_schema = 'public' then {{ backstage_client_id_for_schema('bucket_name') }}
            else client_id
        end as client_id,
        source_schema,
        id as upload_id,

        -- strings
        filename,
        mime_type,
        file_path,
        public_url,
        bucket_name,
        description,
        tags,

        -- numerics
        file_size,

        -- categories
        source_schema = 'public' as is_public_upload,

        -- timestamps
        uploaded_at
    from source
)

select * from renamed
