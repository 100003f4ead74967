{#-
    A relationship that holds inside one client: every non-null (client_id, column) of the model exists as
    (client_id, field) in `to`. Backstage ids repeat across tenant schemas, so a plain relationships test
    would pass on another client's row.
-#}
{% test backstage_relationship_within_client(model, column_name, to, field) %}
select child.client_id, child.{{ column_name }}
from {{ model }} as child
where
    child.{{ column_name }} is not null
    and not exists (
        select 1
        from {{ to }} as parent
        where parent.client_id = child.client_id and parent.{{ field }} = child.{{ column_name }}
    )
{% endtest %}
