"""Bad input: what a real Backstage may hold that the simulator's defaults do not, migrated end to end.

One small simulated Backstage is made worse in every way at once:

- tenants missing tables (legacy `bsa` without its upload tables, topic `first_congregational` without avatars);
- columns whose type drifted (`conflict_club` turn_index as text, `timethatremains` turn created_at as text);
- an empty tenant (every table, no row);
- turns with 1 MB of text, non-ASCII text and SQL- or Jinja-looking text;
- tenants whose names need quoting (`Acme-Corp`, and one with a quote and double quotes), with rows.

The whole project (scripts included) is copied to a temporary folder, and `cogito-migrate run` runs there as a
subprocess (`python -m cogito_migrate.cli` with the copy's `scripts/` first on the path, so the copy's package and
project are used): first without client map rows for the new tenants (the run must stop, naming them and the file
to edit), then, after the rows are appended to the COPY's client map and `discover` has run there, to the end.
The committed seed and sources are never touched.
"""

from __future__ import annotations

import csv
import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from backstage_simulator import create_tenant_schema, simulate
from cogito_migrate import database, discovery
from project_copy import cogito_migrate, copy_project

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 41
NEW_TENANTS = {  # schema -> (client id, layout, rows)
    "Acme-Corp": (150, "topic", True),
    'O\'Hare "Hall"': (151, "legacy", True),
    "quiet_tenant": (152, "topic", False),
}
EMPTY_TENANT = "quiet_tenant"
DROPPED_TABLES = {"bsa": ("grp_con_uploads", "grp_con_upload_vectors"), "first_congregational": ("avatars",)}
TEXT_TURN_INDEX = "conflict_club"
TEXT_CREATED_AT = "timethatremains"
CONTENTS = {
    "one_megabyte": ("0123456789abcdef" * 65536),  # 1 MiB of ASCII
    "non_ascii": "Grüße, Ελληνικά, русский, עברית, العربية, 中文, 日本語, 한국어, 🙂🙏🏽 e\u0301 \u200b tab\tnewline\nend",
    "sql_looking": "'); drop table conversation.turns; -- \" $$ $tag$ \\x00 \\\\ %s %(name)s {{ config() }} {% raw %}",
    "megabyte_multibyte": "ü🙂" * 174763,  # about 1 MiB of 2- and 4-byte characters
}


@dataclass
class BadRun:
    name: str
    project: Path
    unmapped: subprocess.CompletedProcess
    discover: subprocess.CompletedProcess
    run: subprocess.CompletedProcess
    content_turns: dict[str, int]  # label -> dev turn id


# -- making the source worse --------------------------------------------------------------------------------------
def ident(*parts: str) -> sql.Composed:
    return sql.SQL(".").join(sql.Identifier(part) for part in parts)


def drop_tables(conn: psycopg.Connection) -> None:
    for schema, tables in DROPPED_TABLES.items():
        for table in tables:
            conn.execute(sql.SQL("drop table {} cascade").format(ident(schema, table)))


def drift_types(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL("alter table {} alter column turn_index type text using turn_index::text").format(
        ident(TEXT_TURN_INDEX, "grp_con_avatar_turns")))
    conn.execute(sql.SQL("alter table {} alter column created_at type text using created_at::text").format(
        ident(TEXT_CREATED_AT, "grp_con_avatar_turns")))


def add_tenants(conn: psycopg.Connection) -> None:
    """The new tenants; those with rows get a person (a group membership), a topic or conversation, turns."""
    person = conn.execute("select min(id) from public.participants").fetchone()[0]
    for schema, (_, layout, with_rows) in NEW_TENANTS.items():
        create_tenant_schema(conn, schema, layout)
        if not with_rows:
            continue
        conn.execute(sql.SQL("insert into {} (name) values ('guide')").format(ident(schema, "avatars")))
        conn.execute(sql.SQL("insert into {} (name) values ('members')").format(ident(schema, "groups")))
        if layout == "topic":
            conn.execute(sql.SQL("insert into {} (participant_id, group_id) values (%s, 1)").format(
                ident(schema, "participant_groups")), (person,))
            topic = conn.execute(sql.SQL(
                "insert into {} (path, index, created_by) values ('Hostile.Names', '1_0', %s) returning id"
            ).format(ident(schema, "topic_paths")), (person,)).fetchone()[0]
            conn.execute(sql.SQL(
                "insert into {} (topic_id, avatar_id, participant_id, turn_index, content_text, message_type_id) "
                "values (%s, 1, %s, 1, 'a question', 1), (%s, 1, null, 2, 'an answer', 2), "
                "(%s, 1, %s, 1.5, 'a comment', 1)"
            ).format(ident(schema, "grp_topic_avatar_turns")), (topic, person, topic, topic, person))
        else:
            conn.execute(sql.SQL("insert into {} (participant_id, group_id, role) values (%s, 1, 'owner')").format(
                ident(schema, "participant_groups")), (person,))
            conn.execute(sql.SQL("insert into {} (name, group_id) values ('A conversation', 1)").format(
                ident(schema, "grp_cons")))
            conn.execute(sql.SQL(
                "insert into {} (grp_con_id, avatar_id, turn_index, content_text, turn_kind_id, message_type_id) "
                "values (1, 1, 1, 'legacy hello', 1, 1), (1, 1, 2, 'legacy answer', 2, 2)"
            ).format(ident(schema, "grp_con_avatar_turns")))


def add_contents(conn: psycopg.Connection) -> dict[str, int]:
    topic, avatar, person = conn.execute(
        "select topic_id, avatar_id, participant_id from dev.grp_topic_avatar_turns "
        "where participant_id is not null order by id limit 1"
    ).fetchone()
    ids = {}
    for position, (label, text) in enumerate(CONTENTS.items(), start=1):
        ids[label] = conn.execute(
            "insert into dev.grp_topic_avatar_turns (topic_id, avatar_id, participant_id, turn_index, content_text, "
            "message_type_id) values (%s, %s, %s, 10000 + %s, %s, 1) returning id",
            (topic, avatar, person, position, text),
        ).fetchone()[0]
    return ids


# -- the client map of the project copy ------------------------------------------------------------------------------
def map_new_tenants(project: Path) -> None:
    with (project / discovery.CLIENT_MAP_FILE).open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for schema, (client_id, _, _) in NEW_TENANTS.items():
            writer.writerow([schema, client_id, f"Client {client_id}", f"client-{client_id}", "true"])


@pytest.fixture(scope="module")
def bad(make_database, tmp_path_factory) -> Iterator[BadRun]:
    name = make_database("rr_bad_input")
    simulate(name, scale=SCALE, seed=SEED)
    with database.connect(name) as conn:
        drop_tables(conn)
        drift_types(conn)
        add_tenants(conn)
        content_turns = add_contents(conn)
    project = copy_project(tmp_path_factory.mktemp("rr_bad_project") / "project")
    unmapped = cogito_migrate(project, "run", "--database", name)
    map_new_tenants(project)
    discovered = cogito_migrate(project, "discover", "--database", name)
    run = cogito_migrate(project, "run", "--database", name)
    yield BadRun(name, project, unmapped, discovered, run, content_turns)


@pytest.fixture(scope="module")
def conn(bad) -> Iterator[psycopg.Connection]:
    with database.connect(bad.name) as connection:
        yield connection


def test_the_committed_project_is_untouched(bad):
    committed = (database.PROJECT_ROOT / discovery.CLIENT_MAP_FILE).read_text(encoding="utf-8")
    assert all(schema not in committed for schema in NEW_TENANTS)
    assert "Acme-Corp" in (bad.project / discovery.CLIENT_MAP_FILE).read_text(encoding="utf-8")


# -- unmapped schemas ---------------------------------------------------------------------------------------------
def test_unmapped_schemas_stop_the_run_naming_them_and_the_file(bad):
    assert bad.unmapped.returncode == 1
    message = bad.unmapped.stderr
    for schema in NEW_TENANTS:
        assert repr(schema) in message, schema
    assert str(discovery.CLIENT_MAP_FILE) in message and "migrate=false" in message
    assert "step 'discover' failed" in message


# -- the run with every bad input -----------------------------------------------------------------------------------
def test_the_run_succeeds(bad):
    assert bad.discover.returncode == 0, bad.discover.stderr[-3000:]
    assert bad.run.returncode == 0, (bad.run.stdout[-6000:], bad.run.stderr[-3000:])
    assert "finished" in bad.run.stdout


def source_turns(conn: psycopg.Connection, schema: str) -> dict[int, str]:
    table = "grp_topic_avatar_turns" if conn.execute(
        "select to_regclass(%s)", (sql.Identifier(schema).as_string(conn) + ".topic_paths",)
    ).fetchone()[0] else "grp_con_avatar_turns"
    rows = conn.execute(sql.SQL("select id, md5(content_text) from {}").format(ident(schema, table))).fetchall()
    return {f"{schema}.{table}.{turn_id}": digest for turn_id, digest in rows}


def target_turns(conn: psycopg.Connection, client_id: int) -> dict[str, str]:
    rows = conn.execute("select source_turn_id, md5(content) from conversation.turns where client_id = %s",
                        (client_id,)).fetchall()
    return dict(rows)


def client_of(conn: psycopg.Connection, schema: str) -> int:
    found = conn.execute("select id from client_mgmt.clients where metadata->>'backstage_schema' = %s",
                         (schema,)).fetchone()
    assert found is not None, f"no client row for schema {schema!r}"
    return found[0]


@pytest.mark.parametrize("schema", ["bsa", "first_congregational"])
def test_a_tenant_missing_tables_migrates(bad, conn, schema):
    client_id = client_of(conn, schema)
    expected = source_turns(conn, schema)
    assert expected and target_turns(conn, client_id) == expected
    assert conn.execute("select count(*) from client_mgmt.users where client_id = %s", (client_id,)).fetchone()[0] > 0
    if schema == "first_congregational":  # no avatars table: no avatar participants, turns still spoken
        assert conn.execute("select count(*) from conversation.participants where client_id = %s and type = 'avatar'",
                            (client_id,)).fetchone()[0] == 0
    else:  # no grp_con_uploads: the client's uploads are only what public holds for it
        assert conn.execute(
            "select count(*) from files.file_uploads "
            "where client_id = %s and metadata->>'source_table' like 'grp_con%%'",
            (client_id,),
        ).fetchone()[0] == 0


def test_turn_index_as_text_migrates_with_its_value_and_order(bad, conn):
    schema = TEXT_TURN_INDEX
    client_id = client_of(conn, schema)
    assert target_turns(conn, client_id) == source_turns(conn, schema)
    mismatched = conn.execute(
        sql.SQL(
            "select count(*) from {} s join conversation.turns t on t.source_turn_id = %s || s.id "
            "where t.metadata->>'turn_index' is distinct from s.turn_index"
        ).format(ident(schema, "grp_con_avatar_turns")),
        (f"{schema}.grp_con_avatar_turns.",),
    ).fetchone()[0]
    assert mismatched == 0
    # block order follows the numeric value, not the text ('10.00' after '9.00')
    wrong_order = conn.execute(
        """
        select count(*) from (
            select bt.sequence_order,
                   row_number() over (partition by bt.block_id order by (t.metadata->>'turn_index')::numeric,
                                      t.timestamp, (t.metadata->>'original_turn_id')::bigint) as expected
            from conversation.block_turns bt join conversation.turns t using (turn_id)
            join conversation.blocks b using (block_id)
            where b.client_id = %s and b.block_type = 'conversation'
        ) as placed
        where sequence_order <> expected
        """,
        (client_id,),
    ).fetchone()[0]
    assert wrong_order == 0


def test_created_at_as_text_migrates_as_the_same_instant(bad, conn):
    schema = TEXT_CREATED_AT
    client_id = client_of(conn, schema)
    assert target_turns(conn, client_id) == source_turns(conn, schema)
    mismatched = conn.execute(
        sql.SQL(
            "select count(*) from {} s join conversation.turns t on t.source_turn_id = %s || s.id "
            "where s.created_at is not null and t.timestamp <> s.created_at::timestamptz"
        ).format(ident(schema, "grp_con_avatar_turns")),
        (f"{schema}.grp_con_avatar_turns.",),
    ).fetchone()[0]
    assert mismatched == 0


def test_an_empty_tenant_gets_its_client_row_and_nothing_else(bad, conn):
    client_id = client_of(conn, EMPTY_TENANT)
    assert client_id == NEW_TENANTS[EMPTY_TENANT][0]
    for table in ("client_mgmt.users", "conversation.turns", "conversation.block_turns", "files.file_uploads",
                  "files.file_upload_vectors", "events.participant_events"):
        count = conn.execute(sql.SQL("select count(*) from {} where client_id = %s").format(
            sql.SQL(table)), (client_id,)).fetchone()[0]
        assert count == 0, table
    # every client has exactly one unknown speaker and one unfiled block, by design; an empty one nothing more
    assert conn.execute("select type, count(*) from conversation.participants where client_id = %s group by 1",
                        (client_id,)).fetchall() == [("unknown", 1)]
    assert conn.execute("select block_type, count(*) from conversation.blocks where client_id = %s group by 1",
                        (client_id,)).fetchall() == [("unfiled", 1)]


def test_large_non_ascii_and_sql_looking_turns_arrive_byte_for_byte(bad, conn):
    for label, turn_id in bad.content_turns.items():
        source = CONTENTS[label].encode("utf-8")
        row = conn.execute(
            "select md5(convert_to(content, 'UTF8')), octet_length(content), content from conversation.turns "
            "where source_turn_id = %s",
            (f"dev.grp_topic_avatar_turns.{turn_id}",),
        ).fetchone()
        assert row is not None, label
        assert row[0] == hashlib.md5(source).hexdigest() and row[1] == len(source), label
        assert row[2] == CONTENTS[label], label
    assert len(CONTENTS["one_megabyte"].encode()) == 1 << 20
    assert conn.execute("select to_regclass('conversation.turns')").fetchone()[0] is not None


@pytest.mark.parametrize("schema", [schema for schema, (_, _, rows) in NEW_TENANTS.items() if rows])
def test_a_hostile_schema_name_migrates_end_to_end(bad, conn, schema):
    client_id = client_of(conn, schema)
    assert client_id == NEW_TENANTS[schema][0]
    expected = source_turns(conn, schema)
    assert len(expected) >= 2 and target_turns(conn, client_id) == expected
    assert all(source_turn_id.startswith(schema + ".") for source_turn_id in target_turns(conn, client_id))
    users = conn.execute("select count(*) from client_mgmt.users where client_id = %s", (client_id,)).fetchone()[0]
    blocks = conn.execute(
        "select metadata->>'schema_name', count(*) from conversation.blocks where client_id = %s "
        "and block_type = 'conversation' group by 1", (client_id,)
    ).fetchall()
    assert users == 1 and blocks == [(schema, 1)]
    placed = conn.execute(
        "select count(*) from conversation.block_turns where client_id = %s", (client_id,)
    ).fetchone()[0]
    assert placed == len(expected)


# -- last: values a drifted column cannot be read as (restored afterwards) ------------------------------------------
def test_drifted_values_that_do_not_fit_stop_the_run_naming_column_and_value(bad, conn):
    turns = ident(TEXT_TURN_INDEX, "grp_con_avatar_turns")
    stamps = ident(TEXT_CREATED_AT, "grp_con_avatar_turns")
    first = sql.SQL("select id, {} from {} order by id limit 1")
    turn_id, old_index = conn.execute(first.format(sql.Identifier("turn_index"), turns)).fetchone()
    stamp_id, old_stamp = conn.execute(first.format(sql.Identifier("created_at"), stamps)).fetchone()
    try:
        conn.execute(sql.SQL("update {} set turn_index = 'n/a' where id = %s").format(turns), (turn_id,))
        conn.execute(sql.SQL("update {} set created_at = 'yesterday-ish' where id = %s").format(stamps), (stamp_id,))
        stopped = cogito_migrate(bad.project, "run", "--database", bad.name)
    finally:
        conn.execute(sql.SQL("update {} set turn_index = %s where id = %s").format(turns), (old_index, turn_id))
        conn.execute(sql.SQL("update {} set created_at = %s where id = %s").format(stamps), (old_stamp, stamp_id))
    assert stopped.returncode == 1
    assert "[3] discover: FAILED" in stopped.stdout and "[4] passwords" not in stopped.stdout
    assert f"{TEXT_TURN_INDEX}.grp_con_avatar_turns.turn_index (text, read as numeric): 1 value(s)" in stopped.stderr
    assert "'n/a'" in stopped.stderr and "'yesterday-ish'" in stopped.stderr
    stamp_column = f"{TEXT_CREATED_AT}.grp_con_avatar_turns.created_at"
    assert f"{stamp_column} (text, read as timestamp with time zone)" in stopped.stderr
