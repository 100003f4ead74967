with

clients as (
    select * from {{ ref('int_clients_mapped') }}
),

final as (
    select
        client_id as id,
        client_name as name,
        subdomain,
        created_at,
        jsonb_build_object(
            'backstage_schema', backstage_schema,
            'layout', layout,
            'migrated_from', 'backstage'
        ) as metadata
    from clients
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
