-- Each member's groups in a client, folded into the list Cogito keeps on the human participant.
with

participant_groups as (
    select * from {{ ref('stg_backstage__participant_groups') }}
),

groups as (
    select * from {{ ref('stg_backstage__groups') }}
),

group_types as (
    select * from {{ ref('stg_backstage__group_types') }}
),

participant_roles as (
    select * from {{ ref('stg_backstage__participant_roles') }}
),

described as (
    select
        participant_groups.client_id,
        participant_groups.participant_id,
        participant_groups.group_id,
        jsonb_build_object(
            'group_id', participant_groups.group_id,
            'name', groups.group_name,
            'group_type', group_types.group_type_name,
            -- topic layout stores a role id, legacy layout a role text
            'role', coalesce(participant_roles.role_name, participant_groups.role_text)
        ) as group_entry
    from participant_groups
    left join groups
        on
            participant_groups.client_id = groups.client_id
            and participant_groups.group_id = groups.group_id
    left join group_types on groups.group_type_id = group_types.group_type_id
    left join participant_roles on participant_groups.participant_role_id = participant_roles.participant_role_id
),

final as (
    select
        client_id,
        participant_id,
        jsonb_agg(group_entry order by group_id) as group_list
    from described
    group by client_id, participant_id
)

select * from final
