"""The reconciliation: a clean simulated migration reconciles for every client and entity; a tampered target
makes `cogito-migrate verify` (and the build's data test) fail naming the client and entity; a source row
deleted after migration is reported, and kept in the target.

One small simulated and migrated database serves the module. Tampering tests restore what they changed; the
deletion test runs last because it changes the source.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from conftest import Migrated

from cogito_migrate import database, verify, vocabulary

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 31  # the template test_audit, test_isolation and the property test share
CLIENTS = {"dev": 101, "bsa": 102, "conflict_club": 103, "first_congregational": 104, "timethatremains": 105}
TURN_TABLE = {"dev": "grp_topic_avatar_turns", "first_congregational": "grp_topic_avatar_turns",
              "bsa": "grp_con_avatar_turns", "conflict_club": "grp_con_avatar_turns",
              "timethatremains": "grp_con_avatar_turns"}
ENTITIES = vocabulary.load().entities
HASHED_ENTITIES = {entity.name for entity in ENTITIES if entity.content_columns}


@pytest.fixture(scope="module")
def migrated(migrated_template, copy_database) -> Migrated:
    """A copy of the session's migrated template (these tests change it), not a simulation of its own."""
    template = migrated_template(SCALE, SEED)
    return Migrated(copy_database(template.name, "rec_reconciliation"), template.manifest)


@pytest.fixture(scope="module")
def conn(migrated) -> Iterator[psycopg.Connection]:
    with database.connect(migrated.name) as connection:
        yield connection


def run_verify(database_name: str, *extra: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    verify.add_arguments(parser)
    out = io.StringIO()
    code = verify.command(parser.parse_args(["--database", database_name, *extra]), out=out)
    return code, out.getvalue()


def reconciliation(conn: psycopg.Connection) -> dict[tuple[int | None, str], dict[str, Any]]:
    cursor = conn.execute("select * from migration.reconciliation")
    names = [column.name for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {(row["client_id"], row["entity"]): row for row in rows}


def test_clean_migration_reconciles_for_every_client_and_entity(conn, migrated):
    rows = reconciliation(conn)
    for schema, client_id in CLIENTS.items():
        for entity in (entity.name for entity in ENTITIES):
            row = rows[(client_id, entity)]
            assert row["status"] == "reconciled", (schema, entity, row)
            assert row["source_rows"] == row["migrated_rows"] + row["held_rows"], row
            assert row["source_rows"] > 0, row
            assert row["missing_rows"] == row["changed_rows"] == row["deleted_in_source_rows"] == 0
            if entity in HASHED_ENTITIES and row["source_rows"] > row["held_rows"]:
                assert row["source_content_hash"] and row["source_content_hash"] == row["target_content_hash"]
        # the source figure is the simulator's own count of turns in that schema
        turns = migrated.manifest["schemas"][schema]["tables"][TURN_TABLE[schema]]
        assert rows[(client_id, "turn")]["source_rows"] == rows[(client_id, "turn")]["migrated_rows"] == turns
    assert not [key for key, row in rows.items() if row["status"] != "reconciled"]
    # held rows are the open held quarantine rows, no more and no less
    held = conn.execute("select count(distinct (client_id, entity, source_schema, source_table, source_id))"
                        " from migration.quarantine where status = 'open' and disposition = 'held'").fetchone()[0]
    assert sum(row["held_rows"] for row in rows.values()) == held > 0


def test_verify_prints_every_client_and_exits_zero(migrated):
    code, output = run_verify(migrated.name)
    assert code == 0, output
    for schema, client_id in CLIENTS.items():
        assert f"{client_id} {schema}" in output
    assert "MISMATCH" not in output and output.rstrip().endswith("content hashes equal)")


def test_changed_turn_content_fails_verify_and_the_build_naming_client_and_entity(conn, migrated, dbt):
    turn_id, original = conn.execute(
        "select turn_id, content from conversation.turns where source_turn_id = 'bsa.grp_con_avatar_turns.3'"
    ).fetchone()
    conn.execute("update conversation.turns set content = content || ' (edited)' where turn_id = %s", (turn_id,))
    try:
        code, output = run_verify(migrated.name)
        assert code == 1
        mismatch = [line for line in output.splitlines() if line.startswith("MISMATCH")]
        assert len(mismatch) == 1
        assert mismatch[0].startswith("MISMATCH 102 bsa turn: ")
        assert "1 with other content" in mismatch[0] and "bsa.grp_con_avatar_turns.3 content differs" in mismatch[0]
        assert "verify: FAILED: 1 of" in output
        # the build's data test fails too, and its log names the same client and entity
        result = dbt("build", "--select", "reconciliation", database_name=migrated.name, check=False)
        assert result.returncode != 0
        assert "reconciliation mismatch: 102 bsa turn" in result.stdout
    finally:
        conn.execute("update conversation.turns set content = %s where turn_id = %s", (original, turn_id))
    assert run_verify(migrated.name)[0] == 0


def test_deleted_chunk_row_fails_verify_naming_client_and_entity(conn, migrated):
    client_id, schema, chunk_key = conn.execute(
        "select m.client_id, c.backstage_schema, m.source_schema || '.' || m.source_table || '.' || m.source_id"
        " from migration.migration_id_map m join migration.reconciliation c"
        " on c.client_id = m.client_id and c.entity = m.entity"
        " where m.entity = 'file_upload_vector' and m.client_id is not null order by m.client_id, m.source_id limit 1"
    ).fetchone()
    source_rows = reconciliation(conn)[(client_id, "file_upload_vector")]["source_rows"]
    conn.execute("create temporary table removed_chunk as select * from files.file_upload_vectors where id ="
                 " (select cogito_id from migration.migration_id_map where source_schema || '.' || source_table"
                 " || '.' || source_id = %s and entity = 'file_upload_vector')", (chunk_key,))
    conn.execute("delete from files.file_upload_vectors where id in (select id from removed_chunk)")
    try:
        code, output = run_verify(migrated.name)
        assert code == 1
        mismatch = [line for line in output.splitlines() if line.startswith("MISMATCH")]
        assert len(mismatch) == 1
        assert mismatch[0].startswith(f"MISMATCH {client_id} {schema} file_upload_vector: ")
        assert f"source {source_rows} != migrated {source_rows - 1} + held" in mismatch[0]
        assert f"{chunk_key} missing" in mismatch[0]
    finally:
        conn.execute("insert into files.file_upload_vectors select * from removed_chunk")
        conn.execute("drop table removed_chunk")
    assert run_verify(migrated.name)[0] == 0


def test_source_row_deleted_after_migration_is_reported_and_kept(conn, migrated, dbt):
    # runs last: it changes the source. The last turn of a bsa conversation disappears from Backstage.
    turn_id = conn.execute(
        "select id from bsa.grp_con_avatar_turns order by turn_index desc, created_at desc, id desc limit 1"
    ).fetchone()[0]
    conn.execute("delete from bsa.grp_con_avatar_turns where id = %s", (turn_id,))
    dbt("build", database_name=migrated.name)
    row = reconciliation(conn)[(102, "turn")]
    assert row["status"] == "deleted_in_source"
    assert row["deleted_in_source_rows"] == 1
    assert row["deleted_in_source_examples"] == f"bsa.grp_con_avatar_turns.{turn_id}"
    assert row["source_rows"] == row["migrated_rows"] + row["held_rows"]
    # never silently deleted: the migrated turn is still in the target
    assert conn.execute("select count(*) from conversation.turns where source_turn_id = %s",
                        (f"bsa.grp_con_avatar_turns.{turn_id}",)).fetchone() == (1,)
    code, output = run_verify(migrated.name)
    assert code == 0, output
    assert (f"deleted in Backstage since migrated, kept in the target: 102 bsa turn 1 "
            f"(e.g. bsa.grp_con_avatar_turns.{turn_id})") in output
