-- Which clients each person belongs to: a footprint of the person in the client's schema (source spec "Membership").
-- A table, not a view: the marts join it several times and each uuid is computed once here. Kept with the `sync`
-- strategy: computed whole, written only where a row changed, so its rows' xmin tell the marts what changed.
{{ config(
    materialized='incremental',
    incremental_strategy='sync',
    unique_key=['client_id', 'participant_id'],
    on_schema_change='sync_all_columns'
) }}
with

clients as (
    select * from {{ ref('int_clients_mapped') }}
),

people as (
    select * from {{ ref('stg_backstage__participants') }}
),

topic_turns as (
    select * from {{ ref('stg_backstage__topic_turns') }}
),

avatars as (
    select * from {{ ref('stg_backstage__avatars') }}
),

-- materialized: the client map is estimated at one row, and inlined the planner read every footprint once per client
-- (0.75 s at scale 10; 0.35 s so)
footprints as materialized (
    select
        client_id,
        participant_id,
        'participant_groups' as footprint,
        created_at
    from {{ ref('stg_backstage__participant_groups') }}
    union all
    select
        client_id,
        participant_id,
        'participant_avatars' as footprint,
        created_at
    from {{ ref('stg_backstage__participant_avatars') }}
    union all
    select
        client_id,
        participant_id,
        'participant_llms' as footprint,
        created_at
    from {{ ref('stg_backstage__participant_llms') }}
    union all
    select
        client_id,
        participant_id,
        'participant_preferences' as footprint,
        created_at
    from {{ ref('stg_backstage__participant_preferences') }}
    union all
    select
        client_id,
        participant_id,
        'participant_events' as footprint,
        created_at
    from {{ ref('stg_backstage__participant_events') }}
    union all
    select
        client_id,
        created_by_participant_id as participant_id,
        'topic_created_by' as footprint,
        created_at
    from {{ ref('stg_backstage__topics') }}
    union all
    select
        client_id,
        created_by_participant_id as participant_id,
        'grp_template_created_by' as footprint,
        created_at
    from {{ ref('stg_backstage__grp_templates') }}
    union all
    -- the public event log counts only where its schema_id names the client's schema (staging set client_id so)
    select
        client_id,
        participant_id,
        'participant_event_logs' as footprint,
        created_at
    from {{ ref('stg_backstage__participant_event_logs') }}
    union all
    -- a comment may carry an avatar id in participant_id (it equals the turn's avatar_id then): not a person
    select
        topic_turns.client_id,
        topic_turns.participant_id,
        'turn' as footprint,
        topic_turns.created_at
    from topic_turns
    where not (
            topic_turns.is_comment
            and exists (
                select
                from avatars
                where
                    avatars.client_id = topic_turns.client_id
                    and avatars.avatar_id = topic_turns.participant_id
                    and topic_turns.participant_id = topic_turns.avatar_id
            )
        )
),

final as (
    select
        footprints.client_id,
        clients.backstage_schema,
        footprints.participant_id,
        -- text, not an array: dbt unit-test fixtures cannot type array columns
        string_agg(distinct footprints.footprint, ',' order by footprints.footprint) as footprints,
        min(footprints.created_at) as first_footprint_at
    from footprints
    inner join clients on footprints.client_id = clients.client_id
    inner join people on footprints.participant_id = people.participant_id
    group by
        footprints.client_id,
        clients.backstage_schema,
        footprints.participant_id
)

select * from final
