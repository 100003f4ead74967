{#-
    An index a mart's contract needs is built, valid (a failed concurrent build leaves an invalid one) and of the
    access method it should have. For an `index` model (its own node, no relation of its own): `table` names the
    indexed mart.
-#}
{% test mart_index_built(model, table, index_name, method='btree') %}
select expected.index_name
from (select {{ backstage_literal(index_name) }}::name as index_name) as expected
where not exists (
    select
    from pg_catalog.pg_index as built
    inner join pg_catalog.pg_class as index_relation on built.indexrelid = index_relation.oid
    inner join pg_catalog.pg_am as access_method on index_relation.relam = access_method.oid
    where
        built.indrelid = to_regclass({{ backstage_literal(table.render()) }})
        and index_relation.relname = expected.index_name
        and access_method.amname = {{ backstage_literal(method) }}
        and built.indisvalid
)
{% endtest %}
