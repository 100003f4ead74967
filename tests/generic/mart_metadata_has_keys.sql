{#-
    Every row the migration wrote (its uuid in `id_column` is version 3; Cogito's own rows, written after cutover,
    carry random v4/v7 uuids and need no Backstage metadata) carries each of these top-level keys in its jsonb
    column (default `metadata`); checked in the rows the latest build wrote (written_by_this_build).
-#}
{% test mart_metadata_has_keys(model, keys, id_column, column_name='metadata') %}
    select *
    from {{ model }} as checked
    where
        {{ written_by_this_build('checked') }}
        and {{ written_by_migration(id_column) }}
        and not ({{ column_name }} ?& array[
            {%- for key in keys %}'{{ key }}'{{ ', ' if not loop.last }}{% endfor -%}
        ]::text[])
{% endtest %}
