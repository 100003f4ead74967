-- The patterns this project detects, as Cogito's pattern catalogue: one row per pattern, shared by every client
-- (client_id NULL: the application role reads them whatever client it acts for). `detection_instructions` says,
-- in words, how the pattern is detected and which version of the method it is.
with

patterns as (
    {{ pattern_catalogue_rows() }}
),

final as (
    select
        {{ pattern_type_uuid('patterns.name') }} as id,
        null::integer as client_id,
        patterns.name,
        patterns.display_name,
        patterns.description,
        patterns.detection_instructions,
        array[patterns.scope] as scope_types,
        null::numeric(3, 2) as usefulness_score,
        true as is_active
    from patterns
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
