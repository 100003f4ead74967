{#-
    The column spec of every Backstage table the staging layer reads: table -> {column name: type}, in output
    order. The specs are data, the vars `backstage_column_specs` of dbt_project.yml, which `cogito-migrate
    discover` reads as well.
-#}
{% macro backstage_column_specs() %}
{{ return(var('backstage_column_specs')) }}
{% endmacro %}
