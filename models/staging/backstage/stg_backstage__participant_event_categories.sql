-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.participant_event_categories
with

source as (
    {{ backstage_union('participant_event_categories', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as participant_event_category_id,
        name as category_name,
        active as is_active
    from source
)

select * from renamed
