with

blocks as (
    select * from {{ ref('int_blocks_nested') }}
),

final as (
    select
        block_id,
        client_id,
        parent_block_id,
        block_name as name,
        description,
        block_type,
        created_by,
        created_at,
        metadata
    from blocks
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
