{#-
    Incremental strategy `sync` (config `incremental_strategy='sync'`, with a `unique_key`) for an intermediate table
    that the model computes whole on every run: afterwards the table holds exactly the model's rows, but only rows
    that are new or differ were written. So a row's `xmin` says when its values last changed, and a mart can ask
    "did anything this target row was made from change since I wrote it?" without recomputing every row.
    One delete (rows gone or different) and one insert (rows new or different), compared on every column.
-#}
{% macro get_incremental_sync_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set current = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set keys = [key] if key is string else key -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | list -%}
    delete from {{ target }} as existing
    where not exists (
        select
        from {{ current }} as current_row
        where
            {% for k in keys -%}
            current_row.{{ adapter.quote(k) }} = existing.{{ adapter.quote(k) }} and
            {% endfor -%}
            row(current_row.{{ columns | join(', current_row.') }})
            is not distinct from row(existing.{{ columns | join(', existing.') }})
    );

    insert into {{ target }} ({{ columns | join(', ') }})
    select {{ columns | join(', ') }}
    from {{ current }} as current_row
    where not exists (
        select
        from {{ target }} as existing
        where
            {% for k in keys -%}
            existing.{{ adapter.quote(k) }} = current_row.{{ adapter.quote(k) }}{{ ' and' if not loop.last }}
            {% endfor -%}
    )
{%- endmacro %}
