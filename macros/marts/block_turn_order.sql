{#-
    The order of turns inside a block (target spec: by `(turn_index, created_at, id)`), written once: the
    intermediate placement, the block_turns mart (which also places turns kept after their Backstage row was
    deleted) and the order test all sort by it. In the unfiled block the turns of each lost topic stay together
    (`lost_container_key`, NULL in every other block). Arguments are SQL expressions.
-#}
{% macro block_turn_order(lost_container_key, turn_index, created_at, turn_id) -%}
    {{ lost_container_key }} asc nulls first, {{ turn_index }} asc, {{ created_at }} asc, {{ turn_id }} asc
{%- endmacro %}
