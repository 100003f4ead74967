{#-
    The failing rows of columns_valid's `unique`: each listed key is unique, dbt's `unique` (a column) and the
    compound-key check (a list of columns or SQL expressions such as `lower(email)`) for several keys in one scan
    (grouping sets). A key given as a column is dbt's `unique`: NULL is no duplicate. A key given as a list
    compares NULLs as equal (as the former `mart_unique_combination` did), so a NULL part such as an unknown
    client_id cannot hide a duplicate. One row per duplicated key value: the key (its columns), the value and how
    many rows hold it.
-#}
{% macro keys_unique(model, keys) %}
    {%- set key_parts = [] %}
    {%- for key in keys %}
        {%- do key_parts.append([key] if key is string else key) %}
    {%- endfor %}
    {%- set expressions = [] %}
    {%- for parts in key_parts %}
        {%- for part in parts if part not in expressions %}
            {%- do expressions.append(part) %}
        {%- endfor %}
    {%- endfor %}
    {#- grouping() over every expression sets a bit (the last expression's the lowest) for each one a grouping set
        leaves out: the bitmask names the key of each group exactly, even when keys share a column. -#}
    {%- set masks = [] %}
    {%- for parts in key_parts %}
        {%- set mask = namespace(value=0) %}
        {%- for expression in expressions if expression not in parts %}
            {%- set mask.value = mask.value + 2 ** (expressions | length - 1 - expressions.index(expression)) %}
        {%- endfor %}
        {%- do masks.append(mask.value) %}
    {%- endfor %}
    {%- set grouping_set = 'grouping(' ~ expressions | join(', ') ~ ')' %}
    select
        case {{ grouping_set }}
            {%- for parts in key_parts %}
            when {{ masks[loop.index0] }} then {{ backstage_literal(parts | join(', ')) }}
            {%- endfor %}
        end as key_columns,
        case {{ grouping_set }}
            {%- for parts in key_parts %}
            when {{ masks[loop.index0] }} then
                {%- if parts | length == 1 %} cast({{ parts[0] }} as text)
                {%- else %} cast(row({{ parts | join(', ') }}) as text)
                {%- endif %}
            {%- endfor %}
        end as key_value,
        count(*) as duplicate_rows
    from {{ model }}
    group by grouping sets (
        {%- for parts in key_parts %}
        ({{ parts | join(', ') }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
    having
        count(*) > 1
        {%- for key in keys if key is string %}
        and not ({{ grouping_set }} = {{ masks[keys.index(key)] }} and {{ key }} is null)
        {%- endfor %}
{% endmacro %}
