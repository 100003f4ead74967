-- Every Backstage turn (both layouts) is exactly one Cogito turn of the same client with byte-identical content.
with

source_turns as (
    select
        client_id,
        source_schema || '.grp_topic_avatar_turns.' || turn_id as source_turn_id,
        content_text
    from {{ ref('stg_backstage__topic_turns') }}
    union all
    select
        client_id,
        source_schema || '.grp_con_avatar_turns.' || turn_id as source_turn_id,
        content_text
    from {{ ref('stg_backstage__legacy_turns') }}
),

landed as (
    select
        client_id,
        source_turn_id,
        content,
        count(*) over (partition by source_turn_id) as copies
    from {{ ref('turns') }}
)

select
    source_turns.source_turn_id,
    landed.copies
from source_turns
left join landed on source_turns.source_turn_id = landed.source_turn_id
where
    landed.source_turn_id is null
    or landed.copies <> 1
    or landed.client_id is distinct from source_turns.client_id
    or convert_to(landed.content, 'UTF8') <> convert_to(source_turns.content_text, 'UTF8')
