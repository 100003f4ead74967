{#-
    The ONLY staging model that reads public.participants.password. It lands in backstage_restricted, a schema
    analysts are not granted, and even here keeps nothing but bcrypt hashes: plaintext and empty values come
    out as NULL with their form in password_format.
-#}
{{ config(schema='backstage_restricted') }}

with

source as (
    {{ backstage_participant_passwords_source() }}
),

renamed as (
    select
        -- ids
        client_id,
        source_schema,
        participant_id,

        -- the hash only when the stored value is a bcrypt hash; never plaintext
        case when {{ backstage_password_format('password') }} like 'bcrypt%' then password end as password_hash,
        {{ backstage_password_format('password') }} as password_format
    from source
)

select * from renamed
