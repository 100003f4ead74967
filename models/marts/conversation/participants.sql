with

participants as (
    select * from {{ ref('int_participants_unioned') }}
),

final as (
    select
        participant_id as id,
        client_id,
        user_id,
        participant_name as name,
        participant_type as type,
        created_at,
        metadata
    from participants
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
