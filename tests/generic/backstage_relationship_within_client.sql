{#-
    A relationship that holds inside one client (or another scope column, e.g. source_schema): every non-null
    (scope, column) of the model exists as (scope, field) in `to`. Backstage ids repeat across tenant schemas,
    so a plain relationships test would pass on another client's row.
-#}
{% test backstage_relationship_within_client(model, column_name, to, field, scope='client_id') %}
select
    child.{{ scope }},
    child.{{ column_name }}
from {{ model }} as child
where
    child.{{ column_name }} is not null
    and not exists (
        select 1
        from {{ to }} as parent
        where parent.{{ scope }} = child.{{ scope }} and parent.{{ field }} = child.{{ column_name }}
    )
{% endtest %}
