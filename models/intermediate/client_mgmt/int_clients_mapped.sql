-- The migrated clients: the client map seed, restricted to the tenant schemas discovery found and marked migrate.
with

client_map as (
    select * from {{ ref('backstage_clients') }}
),

tenants as (
    {{ migrated_tenants_relation() }}
),

topics as (
    select * from {{ ref('stg_backstage__topics') }}
),

conversations as (
    select * from {{ ref('stg_backstage__legacy_conversations') }}
),

topic_turns as (
    select * from {{ ref('stg_backstage__topic_turns') }}
),

legacy_turns as (
    select * from {{ ref('stg_backstage__legacy_turns') }}
),

-- Backstage keeps no creation time for a client: its earliest recorded activity stands in (stable across runs).
activity as (
    select
        client_id,
        created_at
    from topics
    union all
    select
        client_id,
        created_at
    from conversations
    union all
    select
        client_id,
        created_at
    from topic_turns
    union all
    select
        client_id,
        created_at
    from legacy_turns
),

first_activity as (
    select
        client_id,
        min(created_at) as first_activity_at
    from activity
    group by client_id
),

final as (
    select
        tenants.client_id,
        tenants.backstage_schema,
        client_map.name as client_name,
        nullif(client_map.subdomain, '') as subdomain,
        coalesce(
            tenants.layout,
            case
                when exists (
                        select from topics
                        where topics.client_id = tenants.client_id
                    ) then 'topic'
                when exists (
                        select from conversations
                        where conversations.client_id = tenants.client_id
                    ) then 'legacy'
            end,
            'topic'
        ) as layout,
        coalesce(first_activity.first_activity_at, timestamptz '1970-01-01 00:00:00+00') as created_at
    from tenants
    inner join client_map
        on
            tenants.client_id = client_map.client_id
            and tenants.backstage_schema = client_map.schema
    left join first_activity on tenants.client_id = first_activity.client_id
    where client_map.migrate
)

select * from final
