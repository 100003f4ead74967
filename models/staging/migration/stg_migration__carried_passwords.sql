{#-
    RESTRICTED: the hashes the password step (cogito_migrate.passwords) carried, for the users mart. The pre-hook only
    creates the empty table when the step has not run in this database (same columns; the step adds its checks).
-#}
{{ config(
    pre_hook=[
        "create schema if not exists backstage_restricted",
        "create table if not exists backstage_restricted.carried_passwords (
            participant_id bigint primary key,
            password_hash text,
            password_status text not null,
            password_shape text not null
        )",
    ],
) }}

with

source as (
    select * from {{ source('migration', 'carried_passwords') }}
),

renamed as (
    select
        -- ids
        null::int as client_id,
        'public'::text as source_schema,
        participant_id,

        -- the hash and what happened to it (never the stored value itself)
        password_hash,
        password_status,
        password_shape
    from source
)

select * from renamed
