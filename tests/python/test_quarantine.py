"""The quarantine: one pytest per reason, each with its own hand-made bad Backstage rows.

A tiny simulation gives the module a working Backstage; every test below owns a few rows (ids from 900000 up,
which the simulator never uses) that BAD_INPUTS inserts before the one build the module shares. Each test asserts
its quarantine row (reason, disposition, evidence) and that nothing was silently dropped: a held row is absent
from the target and counted as held by the reconciliation, a fallback row is in the target as `landed_id` says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from backstage_simulator import simulate
from cogito_migrate import database, vocabulary
from cogito_migrate.ids import cogito_uuid

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 5
ZERO_VECTOR = "array_fill(0, array[1536])::real[]::vector"
PROJECT = Path(__file__).resolve().parents[2]
DOCS_MD = PROJECT / "models" / "marts" / "migration" / "_migration__docs.md"


@dataclass(frozen=True)
class Context:
    """Ids of existing simulated rows the bad inputs hang on."""

    dev_member: int
    dev_topic: int
    dev_avatar: int
    dev_group: int
    bsa_group: int
    bsa_upload: int


def _context(conn: psycopg.Connection, manifest: dict[str, Any]) -> Context:
    def one(query: str) -> int:
        return conn.execute(query).fetchone()[0]

    return Context(
        dev_member=manifest["memberships"]["dev"][0],
        dev_topic=one("select min(id) from dev.topic_paths"),
        dev_avatar=one("select min(id) from dev.avatars"),
        dev_group=one("select min(id) from dev.groups"),
        bsa_group=one("select min(id) from bsa.groups"),
        bsa_upload=one("select min(id) from bsa.grp_con_uploads"),
    )


def _turn(turn_id: int, ctx: Context, *, topic: int | None = None, participant: int | None = None,
          vector: str = "null", created_at: str = "'2024-05-01 10:00+00'", updated_at: str = "null") -> str:
    """A dev user turn (message type 1) with the given quirks."""
    return (
        "insert into dev.grp_topic_avatar_turns (id, topic_id, avatar_id, participant_id, turn_index, content_text,"
        " content_vector, turn_kind_id, message_type_id, created_at, updated_at) values"
        f" ({turn_id}, {topic if topic is not None else ctx.dev_topic}, {ctx.dev_avatar},"
        f" {participant if participant is not None else ctx.dev_member}, 900, 'hand-made turn {turn_id}',"
        f" {vector}, 1, 1, {created_at}, {updated_at})"
    )


# reason -> the statements that plant it (each test below owns the rows of its reason)
BAD_INPUTS: dict[str, Callable[[Context], list[str]]] = {
    "no_client_membership": lambda ctx: [
        "insert into public.participants (id, name, email, password, created_at) values"
        " (900001, 'Nobody Anywhere', 'nobody-900001@example.test', 'Nobody-Plain-900001', '2021-01-01')",
    ],
    "duplicate_email": lambda ctx: [
        "insert into public.participants (id, name, email, password, created_at) values"
        " (900011, 'Case Older', 'Dup.Case@example.test', 'Older-Plain-900011', '2020-01-01'),"
        " (900012, 'Case Younger', 'dup.case@example.test', 'Younger-Plain-900012', '2021-01-01')",
        f"insert into dev.participant_groups (participant_id, group_id) values (900011, {ctx.dev_group}),"
        f" (900012, {ctx.dev_group})",
        _turn(900013, ctx, participant=900012),
    ],
    "password_reset_required": lambda ctx: [
        "insert into public.participants (id, name, email, password, created_at) values"
        " (900021, 'Plain Password', 'plain-900021@example.test', 'Plaintext-Secret-900021', '2021-01-01')",
        "insert into bsa.participant_groups (participant_id, group_id, role) values"
        f" (900021, {ctx.bsa_group}, 'member')",
    ],
    "unattributable_file": lambda ctx: [
        "insert into public.file_uploads (id, filename, mime_type, file_path, file_size, bucket_name) values"
        " (900031, 'orphan-900031.pdf', 'application/pdf', '/uploads/orphan-900031.pdf', 31337, 'no_such_tenant')",
        "insert into public.file_upload_vectors (id, file_upload_id, chunk_index, content_text) values"
        " (900032, 900031, 0, 'a chunk of an orphan upload')",
    ],
    "missing_file_upload": lambda ctx: [
        "insert into bsa.grp_con_upload_vectors (id, upload_id, chunk_index, content_text) values"
        " (900041, 999999, 0, 'a chunk whose upload is gone')",
    ],
    "missing_chunk_index": lambda ctx: [
        "insert into bsa.grp_con_upload_vectors (id, upload_id, chunk_index, content_text) values"
        f" (900042, {ctx.bsa_upload}, null, 'a chunk without an index')",
    ],
    "duplicate_chunk_index": lambda ctx: [
        "insert into bsa.grp_con_upload_vectors (id, upload_id, chunk_index, content_text) values"
        f" (900043, {ctx.bsa_upload}, 500, 'chunk 500, first'), (900044, {ctx.bsa_upload}, 500, 'chunk 500, again')",
    ],
    "missing_created_at": lambda ctx: [
        "insert into dev.participant_events (id, participant_id, details, created_at) values"
        f" (900051, {ctx.dev_member}, '{{\"page\": \"home\"}}', null)",
        _turn(900052, ctx, created_at="null", updated_at="'2024-06-01 12:00+00'"),
    ],
    "missing_parent_conversation": lambda ctx: [
        "insert into bsa.grp_cons (id, name) values (900061, 'a bsa conversation')",
        # conflict_club's parent key points into bsa.grp_cons (the cross-tenant bug)
        "insert into conflict_club.grp_cons (id, name, parent_grp_con_id) values (900062, 'child of bsa', 900061)",
    ],
    "missing_topic": lambda ctx: [_turn(900071, ctx, topic=999999)],
    "unknown_speaker": lambda ctx: [_turn(900081, ctx, participant=999998)],
    "zero_vector": lambda ctx: [
        _turn(900091, ctx, vector=ZERO_VECTOR),
        "insert into bsa.grp_con_upload_vectors (id, upload_id, chunk_index, content_text, content_vector) values"
        f" (900092, {ctx.bsa_upload}, 600, 'a chunk whose embedding failed', {ZERO_VECTOR})",
    ],
    "no_event_client": lambda ctx: [
        "insert into public.participant_event_logs (id, schema_id, participant_id, description, created_at)"
        " values (900101, null, 999997, 'login attempt', '2024-05-02 08:00+00')",
    ],
    "unknown_event_participant": lambda ctx: [
        "insert into dev.participant_events (id, participant_id, details, created_at) values"
        " (900111, 999996, null, '2024-05-03 09:00+00')",
    ],
}


@dataclass(frozen=True)
class Migrated:
    name: str
    manifest: dict[str, Any]
    context: Context


@pytest.fixture(scope="module")
def migrated(make_database, migrate) -> Iterator[Migrated]:
    name = make_database("rec_quarantine")
    manifest = simulate(name, scale=SCALE, seed=SEED)
    with database.connect(name) as conn:
        context = _context(conn, manifest)
        for statements in BAD_INPUTS.values():
            for statement in statements(context):
                conn.execute(statement)
    migrate(name)
    yield Migrated(name, manifest, context)


@pytest.fixture(scope="module")
def conn(migrated) -> Iterator[psycopg.Connection]:
    with database.connect(migrated.name) as connection:
        yield connection


def quarantined(conn: psycopg.Connection, reason: str, source_table: str, source_id: int) -> list[dict[str, Any]]:
    cursor = conn.execute(
        "select client_id, entity, source_schema, disposition, landed_id, evidence, status from migration.quarantine"
        " where reason = %s and source_table = %s and source_id = %s order by client_id nulls first, entity",
        (reason, source_table, str(source_id)),
    )
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def only(rows: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(rows) == 1, rows
    return rows[0]


def assert_reconciled(conn: psycopg.Connection, client_id: int | None, entity: str, *, held_at_least: int = 0) -> None:
    """Nothing silently dropped: for that client and entity, source = migrated + held, content equal."""
    row = conn.execute(
        "select source_rows, migrated_rows, held_rows, status from migration.reconciliation"
        " where client_id is not distinct from %s and entity = %s",
        (client_id, entity),
    ).fetchone()
    assert row is not None, (client_id, entity)
    source, migrated_rows, held, status = row
    assert source == migrated_rows + held and status != "mismatch", (client_id, entity, row)
    assert held >= held_at_least, (client_id, entity, row)


def exists(conn: psycopg.Connection, query: str, *params: Any) -> bool:
    return conn.execute(f"select exists ({query})", params).fetchone()[0]


# -- held ---------------------------------------------------------------------------------------------------------
def test_no_client_membership_holds_the_person(conn):
    row = only(quarantined(conn, "no_client_membership", "participants", 900001))
    assert (row["client_id"], row["entity"], row["source_schema"], row["disposition"]) == (
        None, "user", "public", "held"
    )
    assert row["evidence"] == {"participant_id": 900001} and row["landed_id"] is None
    for table in ("client_mgmt.users", "conversation.participants"):
        assert not exists(conn, f"select from {table} where metadata->>'original_participant_id' = '900001'")
    assert_reconciled(conn, None, "user", held_at_least=1)


def test_unattributable_file_holds_the_upload_and_its_chunk(conn):
    upload = only(quarantined(conn, "unattributable_file", "file_uploads", 900031))
    chunk = only(quarantined(conn, "unattributable_file", "file_upload_vectors", 900032))
    assert (upload["client_id"], upload["entity"], upload["disposition"]) == (None, "file_upload", "held")
    assert upload["evidence"] == {"upload_id": 900031, "bucket_name": "no_such_tenant"}
    assert (chunk["client_id"], chunk["entity"], chunk["disposition"]) == (None, "file_upload_vector", "held")
    assert not exists(conn, "select from files.file_uploads where metadata->>'original_upload_id' = '900031'"
                            " and metadata->>'schema_name' = 'public'")
    assert not exists(conn, "select from files.file_upload_vectors where content_text = 'a chunk of an orphan upload'")
    assert_reconciled(conn, None, "file_upload", held_at_least=1)
    assert_reconciled(conn, None, "file_upload_vector", held_at_least=1)


def test_missing_file_upload_holds_the_chunk(conn):
    row = only(quarantined(conn, "missing_file_upload", "grp_con_upload_vectors", 900041))
    assert (row["client_id"], row["entity"], row["source_schema"], row["disposition"]) == (
        102, "file_upload_vector", "bsa", "held"
    )
    assert row["evidence"] == {"chunk_id": 900041, "upload_id": 999999, "chunk_index": 0}
    assert not exists(conn, "select from files.file_upload_vectors where content_text = 'a chunk whose upload is gone'")
    assert_reconciled(conn, 102, "file_upload_vector", held_at_least=1)


def test_missing_chunk_index_holds_the_chunk(conn, migrated):
    row = only(quarantined(conn, "missing_chunk_index", "grp_con_upload_vectors", 900042))
    assert (row["client_id"], row["entity"], row["disposition"]) == (102, "file_upload_vector", "held")
    assert row["evidence"] == {"chunk_id": 900042, "upload_id": migrated.context.bsa_upload}
    assert not exists(conn, "select from files.file_upload_vectors where content_text = 'a chunk without an index'")
    assert_reconciled(conn, 102, "file_upload_vector", held_at_least=1)


def test_duplicate_chunk_index_holds_the_later_chunk_and_lands_the_first(conn):
    row = only(quarantined(conn, "duplicate_chunk_index", "grp_con_upload_vectors", 900044))
    assert (row["client_id"], row["entity"], row["disposition"]) == (102, "file_upload_vector", "held")
    assert row["evidence"]["chunk_index"] == 500
    assert quarantined(conn, "duplicate_chunk_index", "grp_con_upload_vectors", 900043) == []
    landed = conn.execute(
        "select content_text from files.file_upload_vectors where client_id = 102 and chunk_index = 500"
    ).fetchall()
    assert landed == [("chunk 500, first",)]
    assert_reconciled(conn, 102, "file_upload_vector", held_at_least=1)


def test_missing_created_at_holds_the_event_and_gives_the_turn_its_update_time(conn):
    event = only(quarantined(conn, "missing_created_at", "participant_events", 900051))
    assert (event["client_id"], event["entity"], event["disposition"]) == (101, "participant_event", "held")
    assert not exists(conn, "select from events.participant_events where metadata->>'schema_name' = 'dev'"
                            " and metadata->>'original_event_id' = '900051'")
    turn = only(quarantined(conn, "missing_created_at", "grp_topic_avatar_turns", 900052))
    assert (turn["client_id"], turn["entity"], turn["disposition"]) == (101, "turn", "migrated_with_fallback")
    assert turn["evidence"]["fallback"] == "updated_at"
    landed = conn.execute("select timestamp::text from conversation.turns where turn_id = %s",
                          (turn["landed_id"],)).fetchone()
    assert landed == ("2024-06-01 12:00:00+00",)
    assert_reconciled(conn, 101, "participant_event", held_at_least=1)
    assert_reconciled(conn, 101, "turn")


# -- migrated with a fallback ---------------------------------------------------------------------------------------
def test_duplicate_email_lands_the_younger_as_a_participant_without_login(conn):
    row = only(quarantined(conn, "duplicate_email", "participants", 900012))
    participant_id = cogito_uuid(101, "participant", "public", "participants", 900012)
    assert (row["client_id"], row["entity"], row["disposition"], row["landed_id"]) == (
        101, "user", "migrated_with_fallback", participant_id
    )
    assert row["evidence"]["login_kept_by_participant_id"] == 900011
    assert conn.execute("select user_id, type from conversation.participants where id = %s",
                        (participant_id,)).fetchone() == (None, "human")
    logins = conn.execute("select metadata->>'original_participant_id' from client_mgmt.users"
                          " where client_id = 101 and lower(email) = 'dup.case@example.test'").fetchall()
    assert logins == [("900011",)]
    # the younger person's turn still migrates, spoken by its participant
    speaker = conn.execute("select participant_id from conversation.turns where source_turn_id = %s",
                           ("dev.grp_topic_avatar_turns.900013",)).fetchone()
    assert speaker == (participant_id,)
    assert_reconciled(conn, 101, "user")


def test_password_reset_required_lands_the_user_without_a_hash(conn):
    row = only(quarantined(conn, "password_reset_required", "participants", 900021))
    assert (row["client_id"], row["entity"], row["disposition"]) == (102, "user", "migrated_with_fallback")
    assert row["evidence"]["stored_value_shape"] == "plaintext"
    assert "Plaintext-Secret-900021" not in json.dumps(row["evidence"])
    user = conn.execute("select password_hash, metadata->>'password_status' from client_mgmt.users where id = %s",
                        (row["landed_id"],)).fetchone()
    assert user == (None, "reset_required")
    assert_reconciled(conn, 102, "user")


def test_missing_parent_conversation_lands_a_top_level_block(conn):
    row = only(quarantined(conn, "missing_parent_conversation", "grp_cons", 900062))
    assert (row["client_id"], row["entity"], row["source_schema"], row["disposition"]) == (
        103, "block", "conflict_club", "migrated_with_fallback"
    )
    assert row["evidence"]["original_parent_grp_con_id"] == 900061
    block = conn.execute("select client_id, parent_block_id from conversation.blocks where block_id = %s",
                         (row["landed_id"],)).fetchone()
    assert block == (103, None)
    assert_reconciled(conn, 103, "block")


def test_missing_topic_files_the_turn_in_the_unfiled_block(conn):
    row = only(quarantined(conn, "missing_topic", "grp_topic_avatar_turns", 900071))
    assert (row["client_id"], row["entity"], row["disposition"]) == (101, "turn", "migrated_with_fallback")
    assert row["evidence"]["topic_id"] == 999999
    block = conn.execute(
        "select b.block_type, b.client_id from conversation.block_turns bt"
        " join conversation.blocks b on b.block_id = bt.block_id where bt.turn_id = %s",
        (row["landed_id"],),
    ).fetchall()
    assert block == [("unfiled", 101)]
    assert_reconciled(conn, 101, "turn")


def test_unknown_speaker_speaks_as_the_clients_unknown_participant(conn):
    row = only(quarantined(conn, "unknown_speaker", "grp_topic_avatar_turns", 900081))
    assert (row["client_id"], row["entity"], row["disposition"]) == (101, "turn", "migrated_with_fallback")
    assert row["evidence"]["participant_id"] == 999998
    assert row["evidence"]["speaker_resolution"] == "unknown_participant_not_member"
    speaker = conn.execute(
        "select p.type, p.client_id from conversation.turns t join conversation.participants p"
        " on p.id = t.participant_id where t.turn_id = %s",
        (row["landed_id"],),
    ).fetchone()
    assert speaker == ("unknown", 101)
    assert_reconciled(conn, 101, "turn")


def test_zero_vector_lands_as_null_for_turns_and_chunks(conn):
    turn = only(quarantined(conn, "zero_vector", "grp_topic_avatar_turns", 900091))
    chunk = only(quarantined(conn, "zero_vector", "grp_con_upload_vectors", 900092))
    assert (turn["entity"], turn["disposition"]) == ("turn", "migrated_with_fallback")
    assert (chunk["client_id"], chunk["entity"], chunk["disposition"]) == (
        102, "file_upload_vector", "migrated_with_fallback"
    )
    assert conn.execute("select content_vector is null from conversation.turns where turn_id = %s",
                        (turn["landed_id"],)).fetchone() == (True,)
    assert conn.execute("select content_vector is null, content_text from files.file_upload_vectors where id = %s",
                        (chunk["landed_id"],)).fetchone() == (True, "a chunk whose embedding failed")
    assert_reconciled(conn, 101, "turn")
    assert_reconciled(conn, 102, "file_upload_vector")


def test_no_event_client_lands_the_event_without_a_client(conn):
    row = only(quarantined(conn, "no_event_client", "participant_event_logs", 900101))
    assert (row["client_id"], row["entity"], row["disposition"]) == (
        None, "participant_event", "migrated_with_fallback"
    )
    assert row["evidence"]["original_participant_id"] == 999997
    event = conn.execute("select client_id, participant_id from events.participant_events where id = %s",
                         (row["landed_id"],)).fetchone()
    assert event == (None, None)
    assert_reconciled(conn, None, "participant_event")


def test_unknown_event_participant_lands_the_event_without_a_participant(conn):
    row = only(quarantined(conn, "unknown_event_participant", "participant_events", 900111))
    assert (row["client_id"], row["entity"], row["disposition"]) == (101, "participant_event", "migrated_with_fallback")
    event = conn.execute("select client_id, participant_id, metadata->>'original_participant_id'"
                         " from events.participant_events where id = %s", (row["landed_id"],)).fetchone()
    assert event == (101, None, "999996")
    assert_reconciled(conn, 101, "participant_event")


# -- the quarantine as a whole --------------------------------------------------------------------------------------
def documented_reasons() -> set[str]:
    """The reasons of the vocabulary (dbt_project.yml), each of which the doc `quarantine_reasons` explains."""
    reasons = set(vocabulary.load().quarantine_reasons)
    doc = DOCS_MD.read_text()
    assert [reason for reason in sorted(reasons) if f"| `{reason}` |" not in doc] == []
    return reasons


# Reasons only a change between two runs produces: tested in test_changes_between_runs.py.
SECOND_RUN_REASONS = {"speaker_deleted_in_source", "email_taken"}


def test_every_documented_reason_has_its_bad_input_and_appears(conn):
    assert set(BAD_INPUTS) == documented_reasons() - SECOND_RUN_REASONS
    found = {reason for (reason,) in conn.execute("select distinct reason from migration.quarantine")}
    assert found == documented_reasons() - SECOND_RUN_REASONS


def test_every_fallback_landed_and_no_held_row_did(conn):
    rows = conn.execute(
        """
        select q.reason, q.disposition, q.landed_id is not null, m.cogito_id is not null
        from migration.quarantine q
        left join migration.migration_id_map m on m.cogito_id = q.landed_id
        where q.status = 'open'
        """
    ).fetchall()
    for reason, disposition, has_landing, landing_mapped in rows:
        if disposition == "held":
            assert not has_landing, reason
        else:
            assert has_landing and landing_mapped, reason
    assert conn.execute("select count(*) from migration.reconciliation where status = 'mismatch'").fetchone() == (0,)


def test_evidence_never_holds_a_secret_password_or_hash(conn, migrated):
    evidence = "\n".join(text for (text,) in conn.execute("select evidence::text from migration.quarantine"))
    stored = [value for (value,) in conn.execute("select password from public.participants")]
    carried = [value for (value,) in conn.execute(
        "select password_hash from backstage_restricted.carried_passwords where password_hash is not null")]
    api_keys = [value for (value,) in conn.execute("select api_key from public.llms")]
    secrets = [*stored, *carried, *api_keys, *migrated.manifest["secrets"],
               *(entry["plaintext"] for entry in migrated.manifest["passwords"] if entry["plaintext"])]
    leaked = [secret for secret in secrets if len(secret) >= 4 and secret in evidence]
    assert not leaked
    assert not re.search(r"\$2[aby]?\$\d\d\$", evidence), "a bcrypt hash in the evidence"
    keys = {key for (key,) in conn.execute(
        "select distinct jsonb_object_keys(evidence) from migration.quarantine")}
    assert not [key for key in keys if re.search(r"api_?key|secret|passw(or)?d|token|credential|hash", key)]


def test_a_source_row_that_now_lands_resolves_its_quarantine_row(conn, migrated, dbt):
    # runs last: it changes the module's database. The orphan upload's bucket is fixed, so it and its chunk land.
    before = only(quarantined(conn, "unattributable_file", "file_uploads", 900031))
    conn.execute("update public.file_uploads set bucket_name = 'dev' where id = 900031")
    dbt("build", database_name=migrated.name)
    for table, source_id in (("file_uploads", 900031), ("file_upload_vectors", 900032)):
        row = only(quarantined(conn, "unattributable_file", table, source_id))
        assert row["status"] == "resolved", table
    assert before["status"] == "open"
    quarantined_at, resolved_at = conn.execute(
        "select quarantined_at, resolved_at from migration.quarantine"
        " where reason = 'unattributable_file' and source_id = '900031'").fetchone()
    assert resolved_at is not None and quarantined_at <= resolved_at
    assert exists(conn, "select from files.file_upload_vectors where client_id = 101"
                        " and content_text = 'a chunk of an orphan upload'")
    # other quarantine rows stay open, and the figures still balance with the resolved rows left out
    assert only(quarantined(conn, "unknown_speaker", "grp_topic_avatar_turns", 900081))["status"] == "open"
    assert_reconciled(conn, 101, "file_upload")
    assert_reconciled(conn, 101, "file_upload_vector")
    assert conn.execute("select count(*) from migration.reconciliation where status = 'mismatch'").fetchone() == (0,)
