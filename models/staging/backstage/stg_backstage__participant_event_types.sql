-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
-- lookup: public.participant_event_types
with

source as (
    {{ backstage_union('participant_event_types', include_tenants=false, include_public=true) }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as event_type_id,
        name as event_type_name,
        description,
        participant_event_categories_id as participant_event_category_id
    from source
)

select * from renamed
