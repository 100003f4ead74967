-- Every Backstage topic (topic layout) and conversation (legacy layout) becomes a block, decided once: a legacy
-- conversation whose parent is not in its own schema lands as a top-level block.
with

topics as (
    select * from {{ ref('stg_backstage__topics') }}
),

conversations as (
    select * from {{ ref('stg_backstage__legacy_conversations') }}
),

blocks as (
    select * from {{ ref('int_blocks_nested') }}
),

unioned as (
    select
        client_id,
        source_schema,
        'topic_paths' as source_table,
        topic_id as container_id
    from topics
    union all
    select
        client_id,
        source_schema,
        'grp_cons' as source_table,
        grp_con_id as container_id
    from conversations
),

reasoned as (
    select
        unioned.client_id,
        'block' as entity,
        unioned.source_schema,
        unioned.source_table,
        cast(unioned.container_id as text) as source_id,
        {{ cogito_table_of('block') }} as cogito_table,
        -- the nested block's uuid (a block the reshaping lost has none: the reconciliation reports it missing)
        blocks.block_id as cogito_id,
        unioned.client_id as key_client_id,
        {{ content_hash('block', 'unioned') }} as content_hash,
        jsonb_strip_nulls(jsonb_build_object(
            -- the parent is not in the conversation's own schema (conflict_club points into bsa)
            'missing_parent_conversation', case
                when
                    blocks.source_table = 'grp_cons'
                    and blocks.metadata ->> 'original_parent_grp_con_id' is not null
                    and not cast(blocks.metadata -> 'parent_resolved' as boolean)
                    then jsonb_build_object(
                            'grp_con_id', blocks.source_id,
                            'original_parent_grp_con_id', blocks.metadata -> 'original_parent_grp_con_id',
                            'fallback', 'top-level block'
                        )
            end
        )) as reasons
    from unioned
    left join blocks
        on
            unioned.source_schema = blocks.source_schema
            and unioned.source_table = blocks.source_table
            and unioned.container_id = blocks.source_id
)

select
    *,
    {{ source_row_decision('block') }}
from reasoned
