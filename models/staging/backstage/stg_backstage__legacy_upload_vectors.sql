-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('grp_con_upload_vectors') }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        id as chunk_id,
        upload_id,

        -- content
        chunk_index,
        content_text,
        content_vector,
        {{ backstage_is_zero_vector('content_vector') }} as is_zero_vector
    from source
)

select * from renamed
