-- Turns per client and month, both Backstage layouts, split by who spoke.
-- Compile with `dbt compile --select turns_per_client_and_month` and run the SQL it writes under target/compiled/.
with

turns as (
    select
        client_id,
        source_schema,
        created_at,
        speaker_kind,
        is_comment
    from {{ ref('stg_backstage__topic_turns') }}
    union all
    select
        client_id,
        source_schema,
        created_at,
        speaker_kind,
        is_comment
    from {{ ref('stg_backstage__legacy_turns') }}
),

clients as (
    select
        client_id,
        name as client_name
    from {{ ref('backstage_clients') }}
),

monthly as (
    select
        client_id,
        source_schema,
        date_trunc('month', created_at)::date as turn_month,
        count(*) as turns,
        count(*) filter (where speaker_kind = 'user' and not is_comment) as user_turns,
        count(*) filter (where speaker_kind = 'assistant') as assistant_turns,
        count(*) filter (where is_comment) as comment_turns
    from turns
    group by client_id, source_schema, date_trunc('month', created_at)::date
)

select
    monthly.client_id,
    clients.client_name,
    monthly.source_schema,
    monthly.turn_month,
    monthly.turns,
    monthly.user_turns,
    monthly.assistant_turns,
    monthly.comment_turns
from monthly
left join clients on monthly.client_id = clients.client_id
order by monthly.client_id, monthly.turn_month
