-- One login candidate per membership; of two people whose emails differ only in case within a client, the older
-- keeps the login (the other's participant and turns still migrate, without a user).
with

memberships as (
    select * from {{ ref('int_memberships_derived') }}
),

people as (
    select * from {{ ref('stg_backstage__participants') }}
),

carried_passwords as (
    select * from {{ ref('stg_migration__carried_passwords') }}
),

joined as (
    select
        memberships.client_id,
        memberships.backstage_schema,
        memberships.participant_id,
        memberships.footprints,
        memberships.first_footprint_at,
        people.participant_name,
        people.email,
        lower(people.email) as email_lower,
        people.created_at as person_created_at,
        carried_passwords.password_hash,
        coalesce(carried_passwords.password_status, 'reset_required') as password_status
    from memberships
    inner join people on memberships.participant_id = people.participant_id
    left join carried_passwords on memberships.participant_id = carried_passwords.participant_id
),

ranked as (
    select
        *,
        -- older first; a person without a creation time counts as the newest; the lower id breaks ties
        row_number() over (
            partition by client_id, email_lower
            order by person_created_at asc nulls last, participant_id asc
        ) as email_rank,
        first_value(participant_id) over (
            partition by client_id, email_lower
            order by person_created_at asc nulls last, participant_id asc
        ) as login_participant_id
    from joined
),

final as (
    select
        client_id,
        backstage_schema,
        participant_id,
        participant_name,
        email,
        email_lower,
        coalesce(person_created_at, first_footprint_at) as created_at,
        footprints,
        password_hash,
        password_status,
        email_rank = 1 as holds_login,
        case when email_rank > 1 then login_participant_id end as duplicate_of_participant_id,
        case when email_rank = 1 then {{ user_uuid('client_id', 'participant_id') }} end as user_id,
        {{ human_participant_uuid('client_id', 'participant_id') }} as human_participant_id
    from ranked
)

select * from final
