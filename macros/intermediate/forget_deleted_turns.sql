{#-
    Post-hook of the incremental int_turns_unioned: turns whose Backstage row is gone (or whose schema now maps to
    another client) leave the table, so that it always holds exactly the current source turns.
    The gone turns are found in a materialized CTE first: a DELETE joined straight to the staging views would make
    PostgreSQL carry each view's whole row (for its concurrent-update recheck), reading every turn's text and vector.
-#}
{% macro forget_deleted_turns() -%}
    with gone as materialized (
        select known.cogito_turn_id
        from {{ this }} as known
        where
        {%- for source_table, staging_model in [
            ('grp_topic_avatar_turns', 'stg_backstage__topic_turns'),
            ('grp_con_avatar_turns', 'stg_backstage__legacy_turns')
        ] %}
            {{ 'and ' if not loop.first }}not exists (
                select from {{ ref(staging_model) }} as current_turn
                where
                    known.source_table = '{{ source_table }}'
                    and current_turn.source_schema = known.source_schema
                    and current_turn.turn_id = known.turn_id
                    and current_turn.client_id is not distinct from known.client_id
            )
        {%- endfor %}
    )

    delete from {{ this }}
    where cogito_turn_id in (select gone.cogito_turn_id from gone)
{%- endmacro %}
