"""Re-runs: nothing lost, nothing changed, nothing rebuilt.

One small simulated Backstage is migrated by the runner and then taken through the life of a migration, step
by step (the `history` fixture records what each step left behind; the tests judge the records):

1. first run (a copy of the session's migrated template of this scale and seed);
2. Cogito writes rows of its own into the target (a new client, and new rows inside migrated client 101,
   including a turn appended to every migrated block of that client), then a second run over the unchanged
   source: no row of any target table may change (same hash of all columns, same `xmin` for every row); a third
   run finds nothing changed since and skips its build;
3. `--full-refresh` attempts are refused, and change nothing;
4. the simulator grows Backstage (and one late comment lands between two existing turns), then a third run:
   exactly the grown rows are added, per table as the grow manifest says, block order continues correctly,
   and Cogito's rows are still untouched.

A second database, simulated identically, has its first `dbt build` killed half-way; after a normal run it
must hold exactly what the uninterrupted first run produced.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from backstage_simulator import grow, simulate
from cogito_migrate import database, passwords, runner, verify
from cogito_migrate.dbt import DbtResult, run_dbt, start_dbt_process
from target_sql import cogito_uuid4, relation

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 23
GROW_SEED = 5
GROW_AMOUNT = 0.1
TARGET_SCHEMAS = ("client_mgmt", "conversation", "files", "events", "migration")
# Tables that change by design on every run, so "no row changed" cannot hold for them:
REBUILT_EVERY_RUN = {
    "events.migration_runs": "the run audit: one new row per run",
    "migration.reconciliation": "a report of the current state, materialized as a table",
    "migration.build_marker": "where the latest build began (its data tests check the rows written since)",
    "migration.backstage_clients": "the client map seed, reloaded by every `dbt seed`",
    "migration.verified_build_inputs": "what the latest verified build read, recorded by every run that builds",
}
# Bookkeeping times (when this database first quarantined a row): the same in every run of one database, so
# the row-version check covers them, but they differ between two databases and stay out of the content digest.
RUN_TIME_COLUMNS = {"migration.quarantine": ["quarantined_at", "resolved_at"]}
KEYS = {
    "client_mgmt.clients": ("id",),
    "client_mgmt.users": ("id",),
    "conversation.participants": ("id",),
    "conversation.blocks": ("block_id",),
    "conversation.turns": ("turn_id",),
    "conversation.block_turns": ("block_id", "turn_id"),
    "files.file_uploads": ("id",),
    "files.file_upload_vectors": ("id",),
    "events.participant_events": ("id",),
    "migration.migration_id_map": ("cogito_id",),
}
TURN_TABLES = ("grp_topic_avatar_turns", "grp_con_avatar_turns")
COGITO_CLIENT = 9001
MIGRATED_CLIENT = 101


# -- what a table holds -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableState:
    rows: int
    digest: str  # md5 over every row (all columns), in a fixed order
    xmins: dict[str, str]  # md5 of the row -> xmin of the row version


def target_tables(conn: psycopg.Connection) -> list[str]:
    """Every table in the target and bookkeeping schemas, from the catalogue (a new table is included too)."""
    rows = conn.execute(
        """
        select n.nspname || '.' || c.relname
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and n.nspname = any(%s)
        order by 1
        """,
        (list(TARGET_SCHEMAS),),
    ).fetchall()
    return [row[0] for row in rows]


def table_state(conn: psycopg.Connection, table: str) -> TableState:
    rows = conn.execute(
        sql.SQL("select md5(t::text), t.xmin::text from {} as t").format(relation(table))
    ).fetchall()
    digest = conn.execute(
        sql.SQL(
            "select md5(coalesce(string_agg(r::text, E'\\n' order by r::text), '')) "
            "from (select to_jsonb(t) - %s::text[] as r from {} as t) as rows"
        ).format(relation(table)),
        (RUN_TIME_COLUMNS.get(table, []),),
    ).fetchone()[0]
    return TableState(len(rows), digest, dict(rows))


def snapshot(name: str) -> dict[str, TableState]:
    with database.connect(name) as conn:
        return {table: table_state(conn, table) for table in target_tables(conn) if table not in REBUILT_EVERY_RUN}


def keyed_rows(conn: psycopg.Connection, table: str) -> dict[tuple, dict[str, Any]]:
    """key -> the row as a dict (with its xmin), for comparing one table before and after a run."""
    columns = [
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns where table_schema || '.' || table_name = %s "
            "order by ordinal_position",
            (table,),
        )
    ]
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
        cursor.execute(sql.SQL("select t.*, t.xmin::text as row_xmin from {} as t").format(relation(table)))
        rows = cursor.fetchall()
    assert set(KEYS[table]) <= set(columns), table
    return {tuple(row[k] for k in KEYS[table]): row for row in rows}


def keyed_snapshot(name: str) -> dict[str, dict[tuple, dict[str, Any]]]:
    with database.connect(name) as conn:
        return {table: keyed_rows(conn, table) for table in KEYS}


def changed_tables(
    before: dict[str, TableState], after: dict[str, TableState], row_versions: bool = True
) -> dict[str, str]:
    """table -> what changed (rows, content, or, within one database, row versions); empty when nothing did."""
    problems = {}
    for table in sorted(before.keys() | after.keys()):
        old, new = before.get(table), after.get(table)
        if old is None or new is None:
            problems[table] = "appeared" if old is None else "disappeared"
        elif (old.rows, old.digest) != (new.rows, new.digest):
            problems[table] = f"rows {old.rows} -> {new.rows}, digest {old.digest} -> {new.digest}"
        elif row_versions and old.xmins != new.xmins:
            rewritten = sum(1 for key, xmin in old.xmins.items() if new.xmins.get(key) != xmin)
            problems[table] = f"{rewritten} row(s) rewritten with identical content (xmin changed)"
    return problems


# -- running the migration --------------------------------------------------------------------------------------
def migrate(name: str, target: Path) -> str:
    out = io.StringIO()
    result = runner.run_migration(runner.RunOptions(database_name=name, target_path=target, output=out))
    assert result.ok, f"run failed at {result.failed_step}:\n{out.getvalue()[-4000:]}"
    return out.getvalue()


# -- rows Cogito writes after cutover ------------------------------------------------------------------------------
def write_cogito_rows(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Rows the application writes after cutover: a client of its own, and new rows inside a migrated client
    (a user, a participant, a block with a turn, a turn appended at the end of every migrated block, an upload
    with a chunk, an event). Returns their keys per table (block_turns keyed by turn)."""
    u = cogito_uuid4
    client = MIGRATED_CLIENT
    conn.execute(
        "insert into client_mgmt.clients (id, name, subdomain, created_at, metadata) "
        "values (%s, 'Cogito Native', 'native', now(), '{}')",
        (COGITO_CLIENT,),
    )
    for n, owner, email in ((1, COGITO_CLIENT, "ann@native.example"), (2, client, "new.member@dev.example")):
        conn.execute(
            "insert into client_mgmt.users (id, client_id, email, password_hash, is_active, created_at, last_login, "
            "metadata) values (%s, %s, %s, null, true, now(), now(), '{}')",
            (u(n), owner, email),
        )
        conn.execute(
            "insert into conversation.participants (id, client_id, user_id, name, type, created_at, metadata) "
            "values (%s, %s, %s, %s, 'human', now(), '{}')",
            (u(10 + n), owner, u(n), email.split("@")[0]),
        )
        conn.execute(
            "insert into conversation.blocks (block_id, client_id, name, block_type, created_by, created_at, metadata) "
            "values (%s, %s, 'A topic started in Cogito', 'conversation', %s, now(), '{}')",
            (u(20 + n), owner, u(10 + n)),
        )
        conn.execute(
            "insert into conversation.turns (turn_id, client_id, participant_id, content, source_type, source_turn_id, "
            "timestamp, metadata) values (%s, %s, %s, 'written in Cogito', 'human_input', 'cogito', now(), '{}')",
            (u(30 + n), owner, u(10 + n)),
        )
        conn.execute(
            "insert into conversation.block_turns (block_id, turn_id, client_id, sequence_order) "
            "values (%s, %s, %s, 1)",
            (u(20 + n), u(30 + n), owner),
        )
        conn.execute(
            "insert into files.file_uploads (id, client_id, filename, mime_type, file_path, bucket_name, tags, "
            "uploaded_at, metadata) values (%s, %s, 'notes.pdf', 'application/pdf', 'cogito/notes.pdf', 'cogito', "
            "'{}', now(), '{}')",
            (u(40 + n), owner),
        )
        conn.execute(
            "insert into files.file_upload_vectors (id, client_id, file_upload_id, chunk_index, content_text, "
            "created_at, metadata) values (%s, %s, %s, 0, 'a chunk', now(), '{}')",
            (u(50 + n), owner, u(40 + n)),
        )
        conn.execute(
            "insert into events.participant_events (id, client_id, participant_id, event_type, details, created_at, "
            "metadata) values (%s, %s, %s, 'login', '{}', now(), '{}')",
            (u(60 + n), owner, u(10 + n)),
        )
    # Conversations continue in Cogito: a turn at the end of every migrated block of the client.
    blocks = conn.execute(
        "select block_id, max(sequence_order) from conversation.block_turns "
        "where client_id = %s and substr(block_id::text, 15, 1) = '3' group by block_id order by block_id",
        (client,),
    ).fetchall()
    assert blocks
    appended = []
    for n, (block_id, last) in enumerate(blocks, start=1000):
        conn.execute(
            "insert into conversation.turns (turn_id, client_id, participant_id, content, source_type, source_turn_id, "
            "timestamp, metadata) values (%s, %s, %s, 'continued in Cogito', 'human_input', 'cogito', now(), '{}')",
            (u(n), client, u(12)),
        )
        conn.execute(
            "insert into conversation.block_turns (block_id, turn_id, client_id, sequence_order) "
            "values (%s, %s, %s, %s)",
            (block_id, u(n), client, last + 1),
        )
        appended.append(u(n))
    return {
        "client_mgmt.clients": [str(COGITO_CLIENT)],
        "client_mgmt.users": [u(1), u(2)],
        "conversation.participants": [u(11), u(12)],
        "conversation.blocks": [u(21), u(22)],
        "conversation.turns": [u(31), u(32), *appended],
        "conversation.block_turns": [u(31), u(32), *appended],
        "files.file_uploads": [u(41), u(42)],
        "files.file_upload_vectors": [u(51), u(52)],
        "events.participant_events": [u(61), u(62)],
    }


def cogito_rows(name: str, written: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Cogito's rows, every column and the xmin, per table."""
    found = {}
    with database.connect(name) as conn:
        for table, keys in written.items():
            column = "turn_id" if table == "conversation.block_turns" else KEYS[table][0]
            rows = conn.execute(
                sql.SQL("select t::text, t.xmin::text from {} as t where {}::text = any(%s) order by 1").format(
                    relation(table), sql.Identifier(column)
                ),
                (keys,),
            ).fetchall()
            found[table] = rows
    return found


# -- a late comment between two existing turns ---------------------------------------------------------------------
def add_late_comment(conn: psycopg.Connection) -> tuple[str, int]:
    """A comment on an old bsa turn: Backstage gives it the midpoint index, between two existing turns."""
    grp_con_id, turn_index = conn.execute(
        "select grp_con_id, min(turn_index) from bsa.grp_con_avatar_turns group by grp_con_id "
        "having count(distinct turn_index) >= 3 order by grp_con_id limit 1"
    ).fetchone()
    new_id = conn.execute(
        """
        insert into bsa.grp_con_avatar_turns
            (grp_con_id, avatar_id, turn_index, content_text, turn_kind_id, message_type_id, created_at)
        select grp_con_id, avatar_id, turn_index + 0.5, 'a late comment on an early turn', 3, 1, now()
        from bsa.grp_con_avatar_turns
        where grp_con_id = %s and turn_index = %s
        order by id
        limit 1
        returning id
        """,
        (grp_con_id, turn_index),
    ).fetchone()[0]
    return "bsa", new_id


def source_turn_ids(conn: psycopg.Connection) -> set[str]:
    """`<schema>.<table>.<id>` of every Backstage turn, from the catalogue's turn tables."""
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables where table_name = any(%s)",
        (list(TURN_TABLES),),
    ).fetchall()
    ids: set[str] = set()
    for schema, table in tables:
        if schema == "template":
            continue
        for (turn_id,) in conn.execute(sql.SQL("select id from {}.{}").format(sql.Identifier(schema),
                                                                               sql.Identifier(table))):
            ids.add(f"{schema}.{table}.{turn_id}")
    return ids


# -- the history of one migrated database -----------------------------------------------------------------------
@dataclass
class History:
    name: str
    manifest: dict[str, Any]
    first: dict[str, TableState] = field(default_factory=dict)
    with_cogito: dict[str, TableState] = field(default_factory=dict)
    second: dict[str, TableState] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    third: dict[str, TableState] = field(default_factory=dict)
    verify_output: str = ""
    cogito_written: dict[str, list[str]] = field(default_factory=dict)
    cogito_before: dict[str, list[tuple]] = field(default_factory=dict)
    cogito_after_second: dict[str, list[tuple]] = field(default_factory=dict)
    cogito_after_grow: dict[str, list[tuple]] = field(default_factory=dict)
    refusals: list[DbtResult] = field(default_factory=list)
    after_refusals: dict[str, TableState] = field(default_factory=dict)
    grow_manifest: dict[str, Any] = field(default_factory=dict)
    late_comment: tuple[str, int] = ("", 0)
    source_turns_before: set[str] = field(default_factory=set)
    source_turns_after: set[str] = field(default_factory=set)
    before_grow: dict[str, dict[tuple, dict[str, Any]]] = field(default_factory=dict)
    after_grow: dict[str, dict[tuple, dict[str, Any]]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def history(migrated_template, copy_database, tmp_path_factory) -> Iterator[History]:
    template = migrated_template(SCALE, SEED)  # simulated and migrated once
    name = copy_database(template.name, "rr_reruns")
    target = tmp_path_factory.mktemp("rr_reruns_target")
    record = History(name, template.manifest)
    record.first = snapshot(name)

    with database.connect(name) as conn:
        record.cogito_written = write_cogito_rows(conn)
    record.cogito_before = cogito_rows(name, record.cogito_written)
    record.with_cogito = snapshot(name)
    record.outputs["second"] = migrate(name, target)
    record.second = snapshot(name)
    record.cogito_after_second = cogito_rows(name, record.cogito_written)
    record.outputs["third"] = migrate(name, target)
    record.third = snapshot(name)
    verify_out = io.StringIO()
    verify.command(argparse.Namespace(database=name, as_built=False, report=target / "verify.html"), out=verify_out)
    record.verify_output = verify_out.getvalue()

    for args in (("build", "--full-refresh"), ("run", "--full-refresh", "--select", "turns")):
        record.refusals.append(run_dbt(*args, database_name=name, target_path=target, capture=True))
    record.after_refusals = snapshot(name)

    with database.connect(name) as conn:
        record.source_turns_before = source_turn_ids(conn)
    record.before_grow = keyed_snapshot(name)
    record.grow_manifest = grow(name, seed=GROW_SEED, amount=GROW_AMOUNT)
    with database.connect(name) as conn:
        record.late_comment = add_late_comment(conn)
        record.source_turns_after = source_turn_ids(conn)
    record.outputs["grow"] = migrate(name, target)
    record.after_grow = keyed_snapshot(name)
    record.cogito_after_grow = cogito_rows(name, record.cogito_written)
    yield record


# -- 1. a second run over an unchanged source --------------------------------------------------------------------
def test_second_run_over_an_unchanged_source_changes_no_row(history):
    assert set(KEYS) <= set(history.second), "a target table is missing"
    assert history.with_cogito["conversation.turns"].rows > history.first["conversation.turns"].rows
    assert changed_tables(history.with_cogito, history.second) == {}


def build_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("[5] build: ok"))


def test_a_run_over_the_inputs_of_the_verified_build_skips_it_and_verifies_its_reconciliation(history):
    # the second run built (Cogito had written rows), the third found nothing changed since and skipped the build
    assert "skipped" not in build_line(history.outputs["second"])
    assert "skipped: nothing it reads changed since the verified build of" in build_line(history.outputs["third"])
    assert "[6] verify: ok" in history.outputs["third"]
    assert changed_tables(history.second, history.third) == {}
    # verify on its own reads that reconciliation instead of recomputing it
    assert history.verify_output.startswith("verify: the reconciliation as the verified build of")
    assert history.verify_output.rstrip().endswith("content hashes equal)")
    # a changed source builds again
    assert "skipped" not in build_line(history.outputs["grow"])


def test_every_table_is_compared(history):
    # Everything in the target schemas except what is rebuilt by design, seen through the catalogue.
    with database.connect(history.name) as conn:
        every = set(target_tables(conn))
    assert every - set(history.second) == set(REBUILT_EVERY_RUN) & every
    assert all(state.rows > 0 for table, state in history.second.items() if table in KEYS)


# -- 2. Cogito's own rows -----------------------------------------------------------------------------------------
def test_cogito_rows_survive_every_run_unchanged(history):
    assert sum(len(rows) for rows in history.cogito_before.values()) == sum(
        len(keys) for keys in history.cogito_written.values()
    )
    assert history.cogito_after_second == history.cogito_before  # same content, same xmin
    assert history.cogito_after_grow == history.cogito_before


def test_cogito_turns_keep_their_place_and_new_turns_follow_them(history):
    before = history.before_grow["conversation.block_turns"]
    after = history.after_grow["conversation.block_turns"]
    appended = {UUID(turn) for turn in history.cogito_written["conversation.block_turns"][2:]}
    continued = 0
    for (block_id, turn_id), row in after.items():
        if turn_id not in appended:
            continue
        position = before[(block_id, turn_id)]["sequence_order"]
        assert row["sequence_order"] == position
        following = [key for key, other in after.items() if key[0] == block_id and other["sequence_order"] > position]
        assert all(key not in before for key in following), "only turns added by the grow run may follow Cogito's"
        continued += bool(following)
    # the grow continued at least one conversation of client 101 after Cogito's turn
    assert continued >= 1


# -- 3. full refresh ----------------------------------------------------------------------------------------------
def test_full_refresh_of_a_mart_is_refused_and_changes_nothing(history):
    for result in history.refusals:
        assert result.returncode != 0
        assert "refusing --full-refresh" in result.stdout
        assert "conversation.turns" in result.stdout and "Cogito" in result.stdout
    assert changed_tables(history.second, history.after_refusals) == {}


# -- 4. growth ----------------------------------------------------------------------------------------------------
def added(history: History, table: str) -> list[dict[str, Any]]:
    before = history.before_grow[table]
    return [row for key, row in history.after_grow[table].items() if key not in before]


def grown(manifest: dict[str, Any], *tables: str) -> int:
    return sum(
        entry["tables"].get(table, 0)
        for schema, entry in manifest["schemas"].items()
        if entry["layout"] in ("global", "topic", "legacy")
        for table in tables
    )


def test_growth_adds_exactly_the_grown_rows(history):
    manifest = history.grow_manifest
    new_memberships = sum(len(ids) for ids in manifest["memberships"].values())
    expected = {
        "client_mgmt.clients": 0,
        "client_mgmt.users": new_memberships,
        "conversation.blocks": grown(manifest, "topic_paths", "grp_cons"),
        "conversation.turns": grown(manifest, *TURN_TABLES) + 1,  # + the late comment
        "conversation.block_turns": grown(manifest, *TURN_TABLES) + 1,
        "files.file_uploads": grown(manifest, "file_uploads", "grp_con_uploads"),
        "files.file_upload_vectors": grown(manifest, "file_upload_vectors", "grp_con_upload_vectors"),
        "events.participant_events": grown(manifest, "participant_events", "participant_event_logs"),
    }
    got = {table: len(added(history, table)) for table in expected}
    assert got == expected
    assert all(history.before_grow[t].keys() <= history.after_grow[t].keys() for t in KEYS), "a row was removed"

    # participants: one human per new membership, one per new avatar, one per (client, LLM) first used now
    new_participants = Counter(row["type"] for row in added(history, "conversation.participants"))
    assert new_participants["human"] == new_memberships
    assert new_participants["avatar"] == grown(manifest, "avatars")
    assert new_participants["unknown"] == 0
    old_llms = {(row["client_id"], row["metadata"].get("original_llm_id"))
                for row in history.before_grow["conversation.participants"].values() if row["type"] == "llm"}
    for row in added(history, "conversation.participants"):
        if row["type"] == "llm":
            assert (row["client_id"], row["metadata"].get("original_llm_id")) not in old_llms
    # the id map gains one row per new migrated row (unknown speakers and unfiled blocks are not mapped)
    mapped = sum(v for k, v in got.items() if k not in ("client_mgmt.clients", "conversation.block_turns"))
    assert len(added(history, "migration.migration_id_map")) == mapped + sum(new_participants.values())


def test_grown_turns_are_exactly_the_new_backstage_turns(history):
    new_source = history.source_turns_after - history.source_turns_before
    schema, comment_id = history.late_comment
    assert f"{schema}.grp_con_avatar_turns.{comment_id}" in new_source
    landed = {row["source_turn_id"] for row in added(history, "conversation.turns")}
    assert landed == new_source


def test_existing_rows_change_only_where_the_source_says_so(history):
    for table in KEYS:
        before, after = history.before_grow[table], history.after_grow[table]
        changed = {key for key, row in before.items() if row != after[key]}
        if table == "conversation.participants":
            # a person with a new footprint or group: only the derived metadata moves
            for key in changed:
                old, new = dict(before[key]), dict(after[key])
                for row in (old, new):
                    row.pop("row_xmin")
                    row["metadata"] = {k: v for k, v in row["metadata"].items()
                                       if k not in ("membership_footprints", "groups")}
                assert old == new, key
        elif table == "conversation.block_turns":
            # renumbered only inside blocks that received a turn, and only to make room for it
            grown_blocks = {key[0] for key in after.keys() - before.keys()}
            assert {key[0] for key in changed} <= grown_blocks
        else:
            assert changed == set(), f"{table}: {len(changed)} existing rows changed"


def test_sequence_order_continues_gap_free_and_keeps_old_order(history):
    before = history.before_grow["conversation.block_turns"]
    after = history.after_grow["conversation.block_turns"]
    blocks: dict[Any, list[tuple]] = defaultdict(list)
    for (block_id, turn_id), row in after.items():
        blocks[block_id].append((row["sequence_order"], turn_id))
    for block_id, placed in blocks.items():
        orders = sorted(order for order, _ in placed)
        assert orders == list(range(1, len(placed) + 1)), block_id
        old = [turn for _, turn in sorted(placed) if (block_id, turn) in before]
        old_before = [turn for _, turn in sorted((before[(block_id, t)]["sequence_order"], t) for t in old)]
        assert old == old_before, f"old turns of block {block_id} changed their relative order"
    # the late comment sits between the two turns whose midpoint it took
    comment = next(row for row in added(history, "conversation.turns")
                   if row["source_turn_id"] == "{}.grp_con_avatar_turns.{}".format(*history.late_comment))
    block_id, placement = next((key[0], row) for key, row in after.items() if key[1] == comment["turn_id"])
    assert 1 < placement["sequence_order"] < len(blocks[block_id])
    renumbered = [key for key, row in before.items() if key[0] == block_id and row != after[key]]
    assert renumbered, "the turns after the comment moved down by one"


def test_new_turns_of_continued_conversations_follow_the_old_ones(history):
    before = history.before_grow["conversation.block_turns"]
    turns = history.after_grow["conversation.turns"]
    late_comment = "{}.grp_con_avatar_turns.{}".format(*history.late_comment)
    last_old: dict[Any, int] = defaultdict(int)
    for (block_id, _), row in before.items():
        last_old[block_id] = max(last_old[block_id], row["sequence_order"])
    continued = [
        (row["sequence_order"], last_old[block_id])
        for (block_id, turn_id), row in history.after_grow["conversation.block_turns"].items()
        if (block_id, turn_id) not in before and block_id in last_old
        and turns[(turn_id,)]["source_turn_id"] != late_comment
    ]
    assert all(order > last for order, last in continued)
    expected = sum(len(units["turns_into_existing"]) for units in history.grow_manifest["units"].values())
    assert len(continued) == expected


# -- 5. a run killed half-way -------------------------------------------------------------------------------------
MART_PROGRESS_SQL = """
    select
        count(*) filter (where to_regclass(name) is not null),
        array_agg(name) filter (where to_regclass(name) is null)
    from unnest(%s::text[]) as name
"""


def kill_build_half_way(name: str, target: Path, after: str) -> tuple[int, list[str]]:
    """Start `dbt build`, SIGKILL it (and its threads' connections) as soon as table `after` is committed."""
    # a real process: only a process can be killed half-way like a crashed machine would
    process = start_dbt_process(
        "build", database_name=name, target_path=target,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 300
    try:
        with database.connect(name) as conn:
            while conn.execute("select to_regclass(%s)", (after,)).fetchone()[0] is None:
                assert process.poll() is None, "dbt build ended before the kill"
                assert time.monotonic() < deadline, "dbt build never reached " + after
                time.sleep(0.05)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            built, missing = conn.execute(MART_PROGRESS_SQL, (list(KEYS),)).fetchone()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return built, sorted(missing or [])


def test_run_killed_half_way_then_run_again_ends_like_an_uninterrupted_run(history, make_database, tmp_path):
    name = make_database("rr_killed")
    simulate(name, scale=SCALE, seed=SEED)
    run_dbt("seed", database_name=name, target_path=tmp_path, check=True, capture=True)
    passwords.carry_passwords(name)
    built, missing = kill_build_half_way(name, tmp_path, "conversation.participants")
    assert built >= 3 and "conversation.block_turns" in missing, (built, missing)

    migrate(name, tmp_path)
    # another database: the same content (row versions are per database)
    assert changed_tables(history.first, snapshot(name), row_versions=False) == {}
