"""SQL helpers the tests share: naming a table, acting as the application, uuids as Cogito writes them."""

from __future__ import annotations

import psycopg
from psycopg import sql

APP_ROLE = "cogito_app"


def relation(schema_or_table: str, table: str | None = None) -> sql.Composed:
    """A quoted `schema.table`, from its two parts or from the text 'schema.table'."""
    schema, name = (schema_or_table, table) if table is not None else schema_or_table.split(".", 1)
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def as_application(conn: psycopg.Connection, client_id: str | None) -> None:
    """Turn the session into the application's: its role, scoped to a client (or not at all)."""
    conn.execute(sql.SQL("set role {}").format(sql.Identifier(APP_ROLE)))
    if client_id is not None:
        conn.execute("select set_config('app.client_id', %s, false)", (client_id,))


def cogito_uuid4(n: int) -> str:
    """A random-looking (version 4) uuid, as Cogito's gen_random_uuid() would give, numbered for readability."""
    return f"00000000-0000-4000-8000-{n:012d}"
