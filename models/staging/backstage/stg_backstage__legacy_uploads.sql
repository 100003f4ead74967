-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('grp_con_uploads') }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as upload_id,
        grp_con_id,
        turn_id,

        -- strings
        filename,
        mime_type,
        file_path,
        public_url,
        bucket_name,

        -- timestamps
        uploaded_at
    from source
)

select * from renamed
