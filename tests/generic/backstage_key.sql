{#-
    A compound key: every column NOT NULL and the combination unique (dbt's built-in tests cover one column only).
    Fails with one row per offending key value.
-#}
{% test backstage_key(model, columns) %}
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
{% endtest %}
