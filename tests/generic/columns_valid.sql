{#-
    A model's column checks in one query and one dbt node (dbt spends about 0.1 s per node whatever its query):
    each argument given is one check (macros/data_tests), their failing rows unioned, each row naming its check and
    carrying the check's row as jsonb. `client_id` is repeated as a column (NULL when the check gives none) so a
    failed build can name the clients.
-#}
{% test columns_valid(model, not_null=none, key=none, unique=none, accepted_values=none) %}
    {%- set checks = [] %}
    {%- if not_null %}
        {%- do checks.append(('not_null', columns_not_null(model, not_null))) %}
    {%- endif %}
    {%- if key %}
        {#- one key (a list of columns) or several (a list of such lists) -#}
        {%- for columns in ([key] if key[0] is string else key) %}
            {%- do checks.append(('key', backstage_key(model, columns))) %}
        {%- endfor %}
    {%- endif %}
    {%- if unique %}
        {%- do checks.append(('unique', keys_unique(model, unique))) %}
    {%- endif %}
    {%- if accepted_values %}
        {%- do checks.append(('accepted_values', columns_accepted_values(model, accepted_values))) %}
    {%- endif %}
    {%- if not checks %}
        {{ exceptions.raise_compiler_error(
            'columns_valid on ' ~ model ~ ' checks nothing: give not_null, key, unique or accepted_values') }}
    {%- endif %}
    {%- for check, query in checks %}
    select
        '{{ check }}' as check_name,
        to_jsonb(failed) ->> 'client_id' as client_id,
        to_jsonb(failed) as failure
    from (
        {{ query }}
    ) as failed
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{% endtest %}
