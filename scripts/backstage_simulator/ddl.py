"""The Backstage structure: public, and tenant schemas of the topic or legacy layout, with their drift.

The DDL lives in the ddl_*.sql files next to this module; schema names are always passed as quoted
identifiers, so a tenant may be called `Acme-Corp` or `o'brien`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import psycopg
from psycopg import sql

HERE = Path(__file__).resolve().parent
LAYOUTS = ("topic", "legacy")


@dataclass(frozen=True)
class TenantShape:
    """How one tenant schema's structure differs from its layout's default."""

    layout: str  # topic | legacy
    topic_reference: str = "topic_id"  # topic layout: topic_id, or the older topicpathid
    group_type_column: bool = True  # legacy layout: conflict_club's groups lack group_type_id
    parent_schema: str | None = None  # legacy layout: where grp_cons.parent_grp_con_id points (None: itself)
    client_tables: bool = False  # dev only: clients, client_schemas, client_schema_preferences


# The Backstage tenants as the spec describes them, in creation order (bsa before conflict_club: its FK).
TENANTS: dict[str, TenantShape] = {
    "dev": TenantShape("topic", client_tables=True),
    "first_congregational": TenantShape("topic", topic_reference="topicpathid"),
    "bsa": TenantShape("legacy"),
    "conflict_club": TenantShape("legacy", group_type_column=False, parent_schema="bsa"),
    "timethatremains": TenantShape("legacy"),
}
TEMPLATE_SCHEMA = "template"
TEMPLATE_SHAPE = TenantShape("topic")
BACKSTAGE_SCHEMAS = ("public", *TENANTS, TEMPLATE_SCHEMA)


@cache
def _ddl(name: str) -> str:
    return (HERE / f"ddl_{name}.sql").read_text()


def _tenant_statements(schema: str, shape: TenantShape) -> list[sql.Composed]:
    name = sql.Identifier(schema)
    if shape.layout == "topic":
        reference = "topicpathid text" if shape.topic_reference == "topicpathid" else "topic_id bigint"
        parts = [sql.SQL(_ddl("topic")).format(schema=name, topic_reference=sql.SQL(reference))]
    elif shape.layout == "legacy":
        group_type = (
            ",\n    group_type_id integer references public.group_types (id)" if shape.group_type_column else ""
        )
        parts = [
            sql.SQL(_ddl("legacy")).format(
                schema=name,
                group_type_column=sql.SQL(group_type),
                parent_schema=sql.Identifier(shape.parent_schema or schema),
            )
        ]
    else:
        raise ValueError(f"unknown layout {shape.layout!r}; expected one of {LAYOUTS}")
    parts.append(sql.SQL(_ddl("shared")).format(schema=name))
    if shape.client_tables:
        parts.append(sql.SQL(_ddl("dev_clients")).format(schema=name))
    return parts


def create_public(conn: psycopg.Connection) -> None:
    """The public schema's Backstage tables (the schema itself exists in every database)."""
    conn.execute(_ddl("public"))


def create_tenant(conn: psycopg.Connection, schema: str, shape: TenantShape) -> None:
    for statement in _tenant_statements(schema, shape):
        conn.execute(statement)


def create_tenant_schema(conn: psycopg.Connection, schema: str, layout: str) -> None:
    """One empty tenant schema of a layout (`topic` or `legacy`) with its default columns.

    Needs the public tables it references (participants, llms, lookups): build them with
    `create_public` or `simulate` first.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    create_tenant(conn, schema, TenantShape(layout))
