-- Which block each current Backstage turn lands in, its order key, and its position among the block's current
-- turns (1..n by block_turn_order). The block_turns mart adds the turns it keeps after Backstage deleted them.
-- A table, not a view: the marts join it several times and each uuid is computed once here. Kept with the `sync`
-- strategy: computed whole, written only where a row changed, so its rows' xmin tell the marts what changed.
{{ config(
    materialized='incremental',
    incremental_strategy='sync',
    unique_key='cogito_turn_id',
    on_schema_change='sync_all_columns'
) }}
with

turns as (
    select * from {{ ref('int_turns_unioned') }}
),

topics as (
    select * from {{ ref('stg_backstage__topics') }}
),

conversations as (
    select * from {{ ref('stg_backstage__legacy_conversations') }}
),

clients as (
    select * from {{ ref('int_clients_mapped') }}
),

-- the older turn variant names its topic by topic_paths.index (topicpathid) instead of topic_id
filed as (
    select
        turns.client_id,
        turns.source_schema,
        turns.source_table,
        turns.turn_id,
        turns.cogito_turn_id,
        turns.turn_index,
        turns.created_at,
        coalesce(by_id.topic_id, by_index.topic_id) as resolved_topic_id,
        conversations.grp_con_id as resolved_grp_con_id,
        case
            when by_id.topic_id is not null then 'topic_id'
            when by_index.topic_id is not null then 'topic_index'
            when conversations.grp_con_id is not null then 'grp_con_id'
            else 'unfiled'
        end as block_resolution,
        -- what the lost topic or conversation was called, so its turns stay together inside the unfiled block
        coalesce(turns.topic_id::text, 'index:' || turns.topic_index, turns.grp_con_id::text) as original_container_key
    from turns
    left join topics as by_id
        on
            turns.client_id = by_id.client_id
            and turns.topic_id = by_id.topic_id
    left join topics as by_index
        on
            turns.client_id = by_index.client_id
            and turns.topic_id is null
            and turns.topic_index = by_index.topic_index
    left join conversations
        on
            turns.client_id = conversations.client_id
            and turns.grp_con_id = conversations.grp_con_id
),

-- each block's uuid computed once, not once per turn (9,000 blocks hold 200,000 turns at scale 10); a container is
-- its kind and id (the unfiled block's id is 0), so every turn finds exactly one
containers as (
    select
        *,
        case
            when resolved_topic_id is not null then 'topic'
            when resolved_grp_con_id is not null then 'conversation'
            else 'unfiled'
        end as container_kind,
        coalesce(resolved_topic_id, resolved_grp_con_id, 0) as container_id
    from filed
),

block_ids as materialized (
    select
        distinct_containers.*,
        case distinct_containers.container_kind
            when 'topic'
                then {{ topic_block_uuid(
                    'distinct_containers.client_id', 'distinct_containers.source_schema',
                    'distinct_containers.container_id'
                ) }}
            when 'conversation'
                then {{ conversation_block_uuid(
                    'distinct_containers.client_id', 'distinct_containers.source_schema',
                    'distinct_containers.container_id'
                ) }}
            else {{ unfiled_block_uuid('distinct_containers.client_id', 'clients.backstage_schema') }}
        end as block_id
    from (
        select distinct
            client_id,
            source_schema,
            container_kind,
            container_id
        from containers
    ) as distinct_containers
    inner join clients on distinct_containers.client_id = clients.client_id
),

placed as (
    select
        containers.*,
        block_ids.block_id
    from containers
    inner join block_ids
        on
            containers.client_id = block_ids.client_id
            and containers.source_schema = block_ids.source_schema
            and containers.container_kind = block_ids.container_kind
            and containers.container_id = block_ids.container_id
),

final as (
    select
        client_id,
        block_id,
        cogito_turn_id,
        source_schema,
        source_table,
        turn_id,
        block_resolution,
        -- only the unfiled block mixes containers: each lost topic's turns stay together there, in order
        case when block_resolution = 'unfiled' then original_container_key end as lost_container_key,
        turn_index,
        created_at,
        (row_number() over (
            partition by client_id, block_id
            order by {{ block_turn_order(
                "case when block_resolution = 'unfiled' then original_container_key end",
                'turn_index', 'created_at', 'turn_id'
            ) }}
        ))::integer as sequence_order
    from placed
)

select * from final
