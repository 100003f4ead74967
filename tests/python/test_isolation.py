"""Row-level security: Cogito's application role sees and writes only the rows of the client it is scoped to.

A small simulated Backstage migrated once through `cogito-migrate run`'s steps (the session's shared template, so
the run audit table exists too; nothing here changes it).
The tables under test are read from the catalogue (every table in the target schemas), so a new target table
without row-level security fails here. The tests act as the application role (`set role cogito_app`, with
`app.client_id` set or not); the migration's own role is the one the runner used.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors, sql

from cogito_migrate import database
from target_sql import as_application, relation

pytestmark = pytest.mark.slow

TARGET_SCHEMAS = ("client_mgmt", "conversation", "files", "events")
BOOKKEEPING_SCHEMAS = ("migration",)
# The column that names the client; `client_mgmt.clients` is the client itself.
CLIENT_COLUMN_OVERRIDES = {"client_mgmt.clients": "id"}
# Catalogues shared by every client (client_id NULL): every application session reads them, none writes them.
SHARED_CATALOGUES = {"conversation.lens_prototypes", "conversation.pattern_types"}
SCOPED_CLIENT, OTHER_CLIENT = 101, 102


@pytest.fixture(scope="module")
def migrated(migrated_template) -> str:
    return migrated_template(0.02, 31).name  # every write here is refused or rolled back


@pytest.fixture(scope="module")
def owner(migrated) -> Iterator[psycopg.Connection]:
    with database.connect(migrated) as conn:
        yield conn


def tables_in(conn: psycopg.Connection, schemas: tuple[str, ...]) -> dict[str, tuple[bool, bool]]:
    """table -> (row security enabled, forced), for every table of the schemas."""
    rows = conn.execute(
        """
        select n.nspname || '.' || c.relname, c.relrowsecurity, c.relforcerowsecurity
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and n.nspname = any(%s)
        order by 1
        """,
        (list(schemas),),
    ).fetchall()
    return {table: (enabled, forced) for table, enabled, forced in rows}


def client_column(conn: psycopg.Connection, table: str) -> str | None:
    if table in CLIENT_COLUMN_OVERRIDES:
        return CLIENT_COLUMN_OVERRIDES[table]
    schema, name = table.split(".")
    found = conn.execute(
        "select 1 from information_schema.columns where table_schema = %s and table_name = %s "
        "and column_name = 'client_id'",
        (schema, name),
    ).fetchone()
    return "client_id" if found else None


def visible(conn: psycopg.Connection, table: str, column: str | None) -> list:
    """The client ids of the rows the session can read (a permission error reads as nothing visible)."""
    target = sql.Identifier(column) if column else sql.SQL("null")
    try:
        with conn.transaction():
            return [row[0] for row in conn.execute(sql.SQL("select {} from {}").format(target, relation(table)))]
    except errors.InsufficientPrivilege:
        return []


# -- coverage -----------------------------------------------------------------------------------------------------
def test_every_target_table_has_row_level_security(owner):
    tables = tables_in(owner, TARGET_SCHEMAS + BOOKKEEPING_SCHEMAS)
    expected = {"client_mgmt.clients", "client_mgmt.users", "conversation.participants", "conversation.blocks",
                "conversation.turns", "conversation.block_turns", "files.file_uploads", "files.file_upload_vectors",
                "events.participant_events", "events.migration_runs"}
    assert expected <= tables.keys()
    target = {table: state for table, state in tables.items() if table.split(".")[0] in TARGET_SCHEMAS}
    assert [table for table, (enabled, _) in target.items() if not enabled] == []
    # not forced: the owner (the migration) is unaffected by the policies
    assert [table for table, (_, forced) in tables.items() if forced] == []


def test_the_migration_role_sees_every_row(owner):
    for table in tables_in(owner, TARGET_SCHEMAS):
        column = client_column(owner, table)
        if column is None or table in SHARED_CATALOGUES:
            continue
        clients = {row[0] for row in owner.execute(sql.SQL("select distinct {} from {}").format(
            sql.Identifier(column), relation(table)))}
        if table != "events.migration_runs":
            assert {101, 102, 103, 104, 105} <= clients, table


# -- reading ------------------------------------------------------------------------------------------------------
def test_application_sees_only_the_rows_of_its_client(migrated, owner):
    seen = {}
    with database.connect(migrated) as app:
        as_application(app, str(SCOPED_CLIENT))
        for table in tables_in(owner, TARGET_SCHEMAS + BOOKKEEPING_SCHEMAS):
            column = client_column(owner, table)
            rows = visible(app, table, column)
            if table in SHARED_CATALOGUES:
                assert rows and set(rows) == {None}, table
                continue
            if column is None or table.split(".")[0] in BOOKKEEPING_SCHEMAS:
                # no client to scope by (the run audit) or bookkeeping: the application sees none of it
                assert rows == [], table
                continue
            expected = owner.execute(sql.SQL("select count(*) from {} where {} = %s").format(
                relation(table), sql.Identifier(column)), (SCOPED_CLIENT,)).fetchone()[0]
            assert expected > 0, table
            assert set(rows) == {SCOPED_CLIENT} and len(rows) == expected, table
            seen[table] = len(rows)
    assert "conversation.turns" in seen and "events.participant_events" in seen


@pytest.mark.parametrize("setting", [None, ""], ids=["unset", "empty"])
def test_application_sees_nothing_without_a_client(migrated, owner, setting):
    with database.connect(migrated) as app:
        as_application(app, setting)
        for table in tables_in(owner, TARGET_SCHEMAS + BOOKKEEPING_SCHEMAS):
            rows = visible(app, table, client_column(owner, table))
            assert rows == ([None] * len(rows) if table in SHARED_CATALOGUES else []), table


def test_application_reads_but_never_writes_a_shared_catalogue(migrated, owner):
    for table in SHARED_CATALOGUES:
        shared = owner.execute(sql.SQL("select count(*) from {} where client_id is null").format(
            relation(table))).fetchone()[0]
        assert shared > 0, table
        with database.connect(migrated) as app:
            as_application(app, str(SCOPED_CLIENT))
            assert len(visible(app, table, "client_id")) == shared, table
            with app.transaction(force_rollback=True):
                changed = app.execute(sql.SQL("update {} set client_id = client_id").format(relation(table))).rowcount
                removed = app.execute(sql.SQL("delete from {}").format(relation(table))).rowcount
            assert (changed, removed) == (0, 0), table


# -- writing ------------------------------------------------------------------------------------------------------
def client_tables(owner: psycopg.Connection) -> list[tuple[str, str]]:
    found = [(table, client_column(owner, table)) for table in tables_in(owner, TARGET_SCHEMAS)]
    return [(table, column) for table, column in found if column is not None and table not in SHARED_CATALOGUES]


def test_application_cannot_insert_rows_of_another_client(migrated, owner):
    for table, column in client_tables(owner):
        row = owner.execute(sql.SQL("select to_jsonb(t) from {} as t where {} = %s limit 1").format(
            relation(table), sql.Identifier(column)), (OTHER_CLIENT,)).fetchone()
        assert row is not None, table
        with database.connect(migrated) as app:
            as_application(app, str(SCOPED_CLIENT))
            # WITH CHECK runs before unique and foreign keys: a copy of another client's row is refused as such
            with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
                app.execute(sql.SQL("insert into {0} select * from jsonb_populate_record(null::{0}, %s)").format(
                    relation(table)), (psycopg.types.json.Jsonb(row[0]),))


def test_application_cannot_move_its_rows_to_another_client(migrated, owner):
    for table, column in client_tables(owner):
        with database.connect(migrated) as app:
            as_application(app, str(SCOPED_CLIENT))
            with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
                app.execute(sql.SQL("update {0} set {1} = %s where ctid = (select ctid from {0} limit 1)").format(
                    relation(table), sql.Identifier(column)), (OTHER_CLIENT,))


def test_application_cannot_touch_rows_of_another_client(migrated, owner):
    for table, column in client_tables(owner):
        with database.connect(migrated) as app:
            as_application(app, str(SCOPED_CLIENT))
            with app.transaction(force_rollback=True):
                updated = app.execute(sql.SQL("update {0} set {1} = {1} where {1} = %s").format(
                    relation(table), sql.Identifier(column)), (OTHER_CLIENT,)).rowcount
                deleted = app.execute(sql.SQL("delete from {0} where {1} = %s").format(
                    relation(table), sql.Identifier(column)), (OTHER_CLIENT,)).rowcount
            assert (updated, deleted) == (0, 0), table
    assert owner.execute("select count(*) from conversation.turns where client_id = %s",
                         (OTHER_CLIENT,)).fetchone()[0] > 0


def test_application_writes_rows_of_its_own_client(migrated, owner):
    participant = owner.execute(
        "select id from conversation.participants where client_id = %s and type = 'human' limit 1", (SCOPED_CLIENT,)
    ).fetchone()[0]
    with database.connect(migrated) as app:
        as_application(app, str(SCOPED_CLIENT))
        with app.transaction(force_rollback=True):
            app.execute(
                "insert into events.participant_events (id, client_id, participant_id, event_type, created_at, "
                "metadata) values (gen_random_uuid(), %s, %s, 'login', now(), '{}')",
                (SCOPED_CLIENT, participant),
            )
            assert app.execute("update conversation.turns set content = content where client_id = %s",
                               (SCOPED_CLIENT,)).rowcount > 0


# -- the analysts' role ---------------------------------------------------------------------------------------------
ANALYST = "cogito_analyst"


def analyst_reads(conn: psycopg.Connection, relation_name: str) -> bool:
    """Whether the analyst role may select from the relation (one row at most is read, then rolled back)."""
    with conn.transaction(force_rollback=True):
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(ANALYST)))
        try:
            with conn.transaction():
                conn.execute(sql.SQL("select * from {} limit 1").format(sql.SQL(relation_name))).fetchall()
        except errors.InsufficientPrivilege:
            return False
    return True


def test_the_analyst_reads_the_staging_views_and_lens_tables_and_nothing_else(owner):
    staging = [name for (name,) in owner.execute(
        "select format('%I.%I', table_schema, table_name) from information_schema.views"
        " where table_schema = 'backstage_staging' order by 1").fetchall()]
    lenses = [name for (name,) in owner.execute(
        "select format('%I.%I', schemaname, tablename) from pg_tables"
        " where schemaname = 'migration_intermediate' and tablename like 'int\\_lens\\_%' order by 1").fetchall()]
    assert len(staging) >= 20 and len(lenses) >= 9
    assert [name for name in staging + lenses if not analyst_reads(owner, name)] == []
    # a tenant's Backstage tables and public.llms hold API keys; the restricted schema the carried password hashes,
    # client_mgmt.users the Cogito ones; the rest of the migration's tables are not the analysts' either
    refused = ["dev.grp_topic_avatar_turns", "bsa.grp_cons", "public.llms", "public.participants",
               "backstage_restricted.carried_passwords", "backstage_restricted.stg_migration__carried_passwords",
               "client_mgmt.users", "conversation.turns", "conversation.block_lens_version",
               "migration_intermediate.int_turns_unioned", "migration.migration_id_map", "events.migration_runs"]
    assert [name for name in refused if analyst_reads(owner, name)] == []
    # no staging view hands out a secret column
    columns = {name for (name,) in owner.execute(
        "select column_name from information_schema.columns where table_schema = 'backstage_staging'").fetchall()}
    assert not {"password", "password_hash", "api_key", "api_keys"} & columns
