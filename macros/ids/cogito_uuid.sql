{#-
    Deterministic ids: RFC 9562 version-3 uuids (MD5, name-based) from the project namespace
    (the constant below; cogito_migrate.ids.NAMESPACE holds the same value) and the key
    '<client_id>/<entity>/<schema>/<table>/<source id>'. A NULL client id renders as the empty string
    ('/participant/public/participants/7'); a NULL entity, schema, table or source id gives a NULL uuid.
    PostgreSQL's md5() is all this needs (no pgcrypto, no uuid-ossp).
-#}

{%- macro cogito_uuid_namespace() -%}
    {{ return('1f5d72a8-4f8c-5292-a73b-2489ddcb5a50') }}
{%- endmacro -%}

{#- Renders a plain name (entity or table) as a SQL string literal; refuses anything that is not a plain name. -#}
{%- macro _cogito_uuid_name_literal(value, argument) -%}
    {%- if value is not string or not modules.re.match('^[a-z][a-z0-9_]*$', value) -%}
        {{ exceptions.raise_compiler_error(
            "cogito_uuid: " ~ argument ~ " must be a plain lowercase name such as 'turn' (got " ~ value ~ "); "
            ~ "use cogito_uuid_from_parts to pass it as a SQL expression"
        ) }}
    {%- endif -%}
    '{{ value }}'
{%- endmacro -%}

{#- The key text; every argument is a SQL expression. -#}
{%- macro cogito_uuid_key_from_parts(client_id, entity, schema, table, source_id) -%}
    (coalesce(({{ client_id }})::text, '') || '/' || ({{ entity }})::text || '/' || ({{ schema }})::text
    || '/' || ({{ table }})::text || '/' || ({{ source_id }})::text)
{%- endmacro -%}

{#-
    The v3 uuid of a key text (SQL expression): md5(namespace bytes || utf-8 key) with the version nibble set to 3
    and the variant bits to 10 (the 17th hex digit maps 0-f onto 8, 9, a, b). The scalar subquery computes md5 once.
-#}
{%- macro cogito_uuid_from_key(key) -%}
    (
        select (
            substr(hashed.digest, 1, 12)
            || '3'
            || substr(hashed.digest, 14, 3)
            || translate(substr(hashed.digest, 17, 1), '0123456789abcdef', '89ab89ab89ab89ab')
            || substr(hashed.digest, 18)
        )::uuid
        from (
            values (md5(
                decode(replace('{{ cogito_uuid_namespace() }}', '-', ''), 'hex') || convert_to({{ key }}, 'UTF8')
            ))
        ) as hashed (digest)
    )
{%- endmacro -%}

{#- General form: every argument is a SQL expression (e.g. a per-row table name column). -#}
{%- macro cogito_uuid_from_parts(client_id, entity, schema, table, source_id) -%}
    {{ cogito_uuid_from_key(cogito_uuid_key_from_parts(client_id, entity, schema, table, source_id)) }}
{%- endmacro -%}

{#- Usual form: client_id, schema and source_id are SQL expressions; entity and table are plain names. -#}
{%- macro cogito_uuid(client_id, entity, schema, table, source_id) -%}
    {{ cogito_uuid_from_parts(
        client_id,
        _cogito_uuid_name_literal(entity, 'entity'),
        schema,
        _cogito_uuid_name_literal(table, 'table'),
        source_id
    ) }}
{%- endmacro -%}

{#-
    Was this uuid written by the migration? Its ids are version 3 (the 13th hex digit, 15th character of the text
    form); Cogito's own rows, written after cutover, carry random v4/v7 uuids.
-#}
{%- macro written_by_migration(column) -%}
    (substr(cast({{ column }} as text), 15, 1) = '3')
{%- endmacro -%}
