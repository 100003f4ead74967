-- depends_on: {{ ref('stg_backstage__tenant_columns') }}
with

source as (
    {{ backstage_union('avatar_scopes') }}
),

renamed as (
    select
        client_id,
        source_schema,
        id as avatar_scope_id,
        name as avatar_scope_name
    from source
)

select * from renamed
