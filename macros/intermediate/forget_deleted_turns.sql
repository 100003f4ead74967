{#-
    Post-hook of the incremental int_turns_unioned: turns whose Backstage row is gone (or whose schema now maps to
    another client) leave the table, so that it always holds exactly the current source turns.
-#}
{% macro forget_deleted_turns() -%}
    delete from {{ this }} as known
    where not exists (
            select from {{ ref('stg_backstage__topic_turns') }} as current_turn
            where
                known.source_table = 'grp_topic_avatar_turns'
                and current_turn.source_schema = known.source_schema
                and current_turn.turn_id = known.turn_id
                and current_turn.client_id is not distinct from known.client_id
        )
        and not exists (
            select from {{ ref('stg_backstage__legacy_turns') }} as current_turn
            where
                known.source_table = 'grp_con_avatar_turns'
                and current_turn.source_schema = known.source_schema
                and current_turn.turn_id = known.turn_id
                and current_turn.client_id is not distinct from known.client_id
        )
{%- endmacro %}
