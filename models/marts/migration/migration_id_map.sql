-- Every migrated Backstage row and the uuid it became, as decided in int_source_rows: the rows that landed in their
-- entity's own table (a duplicate-email person lands as a participant, mapped under `participant`). Never deleted.
with

source_rows as (
    select * from {{ ref('int_source_rows') }}
),

final as (
    select
        cogito_id,
        client_id,
        entity,
        source_schema,
        source_table,
        source_id,
        cogito_table,
        id_key
    from source_rows
    where
        disposition <> 'held'
        and cogito_id is not null
        and cogito_table = {{ entity_cogito_table('entity') }}
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
