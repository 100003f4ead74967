{#-
    The failing rows of a compound key (columns_valid's `key`): every column NOT NULL and the combination unique
    (dbt's built-in tests cover one column only). One row per offending key value, with its problem (`null` or
    `duplicate`).
-#}
{% macro backstage_key(model, columns) %}
with

keyed as (
    select {{ columns | join(', ') }}
    from {{ model }}
),

null_keys as (
    select {{ columns | join(', ') }}, 'null' as problem
    from keyed
    where {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
),

duplicate_keys as (
    select {{ columns | join(', ') }}, 'duplicate' as problem
    from keyed
    group by {{ columns | join(', ') }}
    having count(*) > 1
)

select * from null_keys
union all
select * from duplicate_keys
{% endmacro %}
