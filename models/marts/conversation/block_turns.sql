with

placements as (
    select * from {{ ref('int_turns_ordered_within_blocks') }}
),

final as (
    select
        block_id,
        cogito_turn_id as turn_id,
        client_id,
        sequence_order
    from placements
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
