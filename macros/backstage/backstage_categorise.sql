{#- Who spoke, from message_type_id (the only reliable signal; turn_kind_id's seed names disagree with the code). -#}
{% macro backstage_speaker_kind(message_type_expr) -%}
    case {{ message_type_expr }} when 1 then 'user' when 2 then 'assistant' else 'unknown' end
{%- endmacro %}

{#- A failed embedding was stored as an all-zero vector: true for those, false for real vectors, NULL for none. -#}
{% macro backstage_is_zero_vector(vector_expr) -%}
    (vector_norm({{ vector_expr }}) = 0)
{%- endmacro %}

{#- The form of a stored password, never the password itself: bcrypt variants by prefix, else plaintext/empty. -#}
{% macro backstage_password_format(password_expr) -%}
    case
        when {{ password_expr }} is null or {{ password_expr }} = '' then 'empty'
        when {{ password_expr }} ~ '^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$' then 'bcrypt_' || substr({{ password_expr }}, 3, 1)
        else 'plaintext'
    end
{%- endmacro %}
