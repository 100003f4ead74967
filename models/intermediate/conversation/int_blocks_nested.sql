-- One block per topic (topic layout) or conversation (legacy layout), nested, plus one unfiled block per client.
-- A table, not a view: the marts join it several times and each uuid is computed once here. Kept with the `sync`
-- strategy: computed whole, written only where a row changed, so its rows' xmin tell the marts what changed.
{{ config(
    materialized='incremental',
    incremental_strategy='sync',
    unique_key='block_id',
    on_schema_change='sync_all_columns'
) }}
with

clients as (
    select * from {{ ref('int_clients_mapped') }}
),

topics as (
    select * from {{ ref('stg_backstage__topics') }}
),

conversations as (
    select * from {{ ref('stg_backstage__legacy_conversations') }}
),

groups as (
    select * from {{ ref('stg_backstage__groups') }}
),

members as (
    select * from {{ ref('int_memberships_derived') }}
),

turns as (
    select * from {{ ref('int_turns_unioned') }}
),

-- every proper prefix of a topic's path ('a.b.c' -> 'a', 'a.b'): a parent path need not exist as a row
topic_prefixes as (
    select
        topics.client_id,
        topics.topic_id,
        label_prefix.prefix_depth,
        array_to_string((string_to_array(topics.topic_path, '.'))[1:label_prefix.prefix_depth], '.') as prefix_path
    from topics
    cross join
        lateral generate_series(1, cardinality(string_to_array(topics.topic_path, '.')) - 1)
            as label_prefix (prefix_depth)
),

-- the nearest ancestor path that exists as a topic of the same client (paths compare exactly, case included)
topic_parents as (
    select distinct on (topic_prefixes.client_id, topic_prefixes.topic_id)
        topic_prefixes.client_id,
        topic_prefixes.topic_id,
        ancestor.topic_id as parent_topic_id
    from topic_prefixes
    inner join topics as ancestor
        on
            topic_prefixes.client_id = ancestor.client_id
            and topic_prefixes.prefix_path = ancestor.topic_path
    order by
        topic_prefixes.client_id asc,
        topic_prefixes.topic_id asc,
        topic_prefixes.prefix_depth desc,
        ancestor.topic_id asc
),

first_turns as (
    select
        client_id,
        topic_id,
        grp_con_id,
        min(created_at) as first_turn_at
    from turns
    group by client_id, topic_id, grp_con_id
),

topic_blocks as (
    select
        topics.client_id,
        topics.source_schema,
        'topic_paths' as source_table,
        topics.topic_id as source_id,
        {{ topic_block_uuid('topics.client_id', 'topics.source_schema', 'topics.topic_id') }} as block_id,
        case
            when topic_parents.parent_topic_id is not null
                then {{ topic_block_uuid('topics.client_id', 'topics.source_schema', 'topic_parents.parent_topic_id') }}
        end as parent_block_id,
        coalesce(
            nullif((string_to_array(topics.topic_path, '.'))[cardinality(string_to_array(topics.topic_path, '.'))], ''),
            topics.topic_index,
            'Topic ' || topics.topic_id
        ) as block_name,
        cast(null as text) as description,
        'conversation' as block_type,
        case
            when members.participant_id is not null
                then {{ human_participant_uuid('topics.client_id', 'topics.created_by_participant_id') }}
        end as created_by,
        coalesce(topics.created_at, first_turns.first_turn_at, clients.created_at) as created_at,
        jsonb_build_object(
            'client_id', topics.client_id,
            'migrated_from', 'backstage',
            'schema_name', topics.source_schema,
            'layout', 'topic',
            'original_topic_path', topics.topic_path,
            'original_topic_id', topics.topic_id,
            'original_topic_index', topics.topic_index,
            'original_parent_topic_id', topic_parents.parent_topic_id,
            'original_created_by', topics.created_by_participant_id
        ) as metadata
    from topics
    inner join clients on topics.client_id = clients.client_id
    left join topic_parents
        on
            topics.client_id = topic_parents.client_id
            and topics.topic_id = topic_parents.topic_id
    left join members
        on
            topics.client_id = members.client_id
            and topics.created_by_participant_id = members.participant_id
    left join first_turns
        on
            topics.client_id = first_turns.client_id
            and topics.topic_id = first_turns.topic_id
            and first_turns.grp_con_id is null
),

-- a parent conversation counts only inside the same schema (conflict_club points into bsa: a cross-tenant bug)
conversation_blocks as (
    select
        conversations.client_id,
        conversations.source_schema,
        'grp_cons' as source_table,
        conversations.grp_con_id as source_id,
        {{ conversation_block_uuid(
            'conversations.client_id', 'conversations.source_schema', 'conversations.grp_con_id'
        ) }} as block_id,
        case
            when parent.grp_con_id is not null
                then {{ conversation_block_uuid('parent.client_id', 'parent.source_schema', 'parent.grp_con_id') }}
        end as parent_block_id,
        coalesce(nullif(conversations.conversation_name, ''), 'Conversation ' || conversations.grp_con_id)
            as block_name,
        conversations.description,
        'conversation' as block_type,
        cast(null as uuid) as created_by,
        coalesce(conversations.created_at, first_turns.first_turn_at, clients.created_at) as created_at,
        jsonb_build_object(
            'client_id', conversations.client_id,
            'migrated_from', 'backstage',
            'schema_name', conversations.source_schema,
            'layout', 'legacy',
            'original_grp_con_id', conversations.grp_con_id,
            'original_parent_grp_con_id', conversations.parent_grp_con_id,
            'parent_resolved', parent.grp_con_id is not null,
            'grp_con_type_id', conversations.grp_con_type_id,
            'group', case
                when conversations.group_id is not null
                    then jsonb_build_object('group_id', conversations.group_id, 'name', groups.group_name)
            end
        ) as metadata
    from conversations
    inner join clients on conversations.client_id = clients.client_id
    left join conversations as parent
        on
            conversations.client_id = parent.client_id
            and conversations.source_schema = parent.source_schema
            and conversations.parent_grp_con_id = parent.grp_con_id
            and conversations.parent_grp_con_id <> conversations.grp_con_id
    left join groups
        on
            conversations.client_id = groups.client_id
            and conversations.group_id = groups.group_id
    left join first_turns
        on
            conversations.client_id = first_turns.client_id
            and conversations.grp_con_id = first_turns.grp_con_id
),

unfiled_blocks as (
    select
        client_id,
        backstage_schema as source_schema,
        'unfiled_block' as source_table,
        cast(null as bigint) as source_id,
        {{ unfiled_block_uuid('client_id', 'backstage_schema') }} as block_id,
        cast(null as uuid) as parent_block_id,
        'Unfiled' as block_name,
        'Turns whose Backstage topic or conversation no longer exists.' as description,
        'unfiled' as block_type,
        cast(null as uuid) as created_by,
        created_at,
        jsonb_build_object(
            'client_id', client_id,
            'migrated_from', 'backstage',
            'schema_name', backstage_schema,
            'layout', layout
        ) as metadata
    from clients
),

final as (
    select * from topic_blocks
    union all
    select * from conversation_blocks
    union all
    select * from unfiled_blocks
)

select * from final
