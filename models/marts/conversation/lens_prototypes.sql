-- The lenses this project computes, as Cogito's lens catalogue: one row per lens, shared by every client
-- (client_id NULL: the application role reads them, whatever client it acts for). `base_prompt` says, in words,
-- how the lens is computed and which version of the method it is.
with

lenses as (
    {{ lens_catalogue_rows() }}
),

final as (
    select
        {{ lens_prototype_uuid('lenses.name') }} as prototype_id,
        null::integer as client_id,
        lenses.name,
        lenses.description,
        lenses.base_prompt,
        '2026-12-01 00:00:00+00'::timestamptz as created_at,
        'cogito-migrate' as created_by
    from lenses
)

select * from final as candidate
{{ only_new_or_changed_rows() }}
