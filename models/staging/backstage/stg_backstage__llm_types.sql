-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.llm_types
with

source as (
    {{ backstage_union('llm_types', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as llm_type_id,
        name as llm_type_name,
        description,
        api_handler
    from source
)

select * from renamed
