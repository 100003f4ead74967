"""simulate(): a fresh, marked database, the Backstage structure, then the data, then the manifest."""

from __future__ import annotations

from typing import Any

from cogito_migrate import database as server
from psycopg import sql

from backstage_simulator import content, conversations, ddl, people, public_data, tenants
from backstage_simulator import extra_tenants as extra_tenants_module
from backstage_simulator.data import Writer, build_vector_pools, install_helpers, load_vocabulary
from backstage_simulator.manifest import build_manifest
from backstage_simulator.plan import make_plan

MARK = "backstage simulator"


class SimulatorError(server.DatabaseError):
    """The simulator refuses to touch this database (the message says why)."""


def _database_is_empty(name: str) -> bool:
    with server.connect(name) as conn:
        tables = conn.execute(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'p', 'v', 'm', 'f')"
            " and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'"
        ).fetchone()[0]
    return tables == 0


def prepare_database(name: str) -> None:
    """Create `name` with the mark; an existing database is dropped only if marked (or holds no table)."""
    with server.connect("postgres") as conn:
        row = conn.execute(
            "select shobj_description(oid, 'pg_database') from pg_database where datname = %s", (name,)
        ).fetchone()
        if row is not None:
            if row[0] != MARK and not _database_is_empty(name):
                raise SimulatorError(
                    f"database {name!r} exists and was not made by the simulator (no '{MARK}' comment); "
                    "it is left alone. Choose another --database or drop it yourself."
                )
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("comment on database {} is {}").format(sql.Identifier(name), sql.Literal(MARK)))
    server.ensure_database(name)


def create_structure(conn) -> None:
    ddl.create_public(conn)
    for schema, shape in ddl.TENANTS.items():
        ddl.create_tenant(conn, schema, shape)
    ddl.create_tenant(conn, ddl.TEMPLATE_SCHEMA, ddl.TEMPLATE_SHAPE)


def advance_sequences(conn, schemas: tuple[str, ...]) -> None:
    """Every serial of `schemas` continues after its largest id (ids are given explicitly), so the app could go
    on; a sequence never moves back (a grown database may have used ids its rows no longer show)."""
    serials = conn.execute(
        """
        select format('%%I.%%I', n.nspname, c.relname), quote_ident(a.attname),
               pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname)
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where c.relkind = 'r' and a.attnum > 0 and not a.attisdropped and n.nspname = any(%s)
          and pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname) is not null
        """,
        (list(schemas),),
    ).fetchall()
    for table, column, sequence in serials:
        conn.execute(sql.SQL(
            "select setval({seq}, greatest(coalesce((select max({col}) from {table}), 0) + 1,"
            " (select case when is_called then last_value + 1 else last_value end from {seq_rel})), false)"
        ).format(seq=sql.Literal(sequence), col=sql.SQL(column), table=sql.SQL(table), seq_rel=sql.SQL(sequence)))
    # topic ids come from one shared sequence, no table's own serial; missing topics used up their ids too
    conn.execute(
        "select setval('public.topic_paths_numeric_id_seq', greatest((select max(unit_id) + 1 from sim_unit"
        " join sim_schema using (schema) where layout = 'topic'), (select case when is_called then last_value + 1"
        " else last_value end from public.topic_paths_numeric_id_seq)), false)"
    )


def simulate(database: str, scale: float = 1.0, seed: int = 42, extra_tenants: int = 0) -> dict[str, Any]:
    """Build a Backstage database named `database` and return its manifest (see the package docstring).
    `extra_tenants` small tenants are added after the simulated ones (`backstage_simulator.extra_tenants`).

    The server must be running (the CLI starts the embedded one with `database.start_if_needed()`).
    """
    plan = make_plan(scale, seed)
    prepare_database(database)
    secrets: list[str] = []
    with server.connect(database) as conn:
        writer = Writer(conn, plan)
        create_structure(conn)
        install_helpers(writer)
        load_vocabulary(writer)
        build_vector_pools(writer)
        public_data.seed_reference(writer, secrets)
        people.load_people(writer)
        tenants.plan_schemas(writer)
        for schema in plan.schemas:
            tenants.write_personas(writer, schema, secrets)
            tenants.write_groups(writer, schema)
            tenants.write_memberships(writer, schema)
            tenants.write_templates(writer, schema)
        tenants.write_client_tables(writer)
        conversations.create_plan_tables(writer)
        offset = 0
        for schema in plan.schemas:
            if schema.layout == "topic":
                offset = conversations.plan_topics(writer, schema, offset)
            else:
                conversations.plan_conversations(writer, schema)
        conn.execute("analyze sim_unit, sim_schema, sim_avatar")
        conversations.plan_exchanges(writer)
        conversations.plan_uploads(writer)
        conversations.write_units(writer)
        public_data.write_event_logs(writer, secrets)
        public_data.write_sessions_and_groups(writer, secrets)
        conversations.plant_texts(writer)
        advance_sequences(conn, ddl.BACKSTAGE_SCHEMAS)
        # plaintext passwords sit in public.participants: secrets too (the empty one is not a findable value)
        secrets.extend(people.plaintext_passwords(conn, "sim_people"))
        large_bytes = len("Transcript follows. ") + len(content.LARGE_TURN_SENTENCE) * (
            1_100_000 // len(content.LARGE_TURN_SENTENCE) + 1)
        added = extra_tenants_module.add_extra_tenants(writer, extra_tenants) if extra_tenants else {}
        if added:
            advance_sequences(conn, tuple(added))
        manifest = build_manifest(writer, database, secrets, large_bytes)
        if added:
            manifest["schemas"] |= added
            manifest["extra_tenants"] = sorted(added)
        conn.execute("analyze")
    return manifest
