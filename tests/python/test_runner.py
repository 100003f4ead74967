"""`cogito-migrate run`: stops at the first failed step with a non-zero exit, and reports per-client counts."""

from __future__ import annotations

import argparse
import io

import bcrypt
import pytest

from cogito_migrate import passwords, reports, runner, vocabulary


def run_command(database_name: str, *extra: str) -> int:
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    return runner.command(parser.parse_args(["--database", database_name, *extra]))


def test_unmapped_tenant_schema_stops_the_run_at_discover(make_database, connect, capsys):
    name = make_database("run_unmapped")
    with connect(name) as conn:
        # A legacy-layout tenant (marker table grp_cons) that seeds/backstage_clients.csv does not map.
        conn.execute("create schema brand_new_client")
        conn.execute("create table brand_new_client.grp_cons (id bigserial primary key, name text not null)")
    assert run_command(name) == 1
    output = capsys.readouterr()
    assert "'brand_new_client'" in output.err  # discovery's own message names the schema
    assert "[3] discover: FAILED" in output.out
    assert "step 'discover' failed" in output.err
    assert "[4] passwords" not in output.out
    with connect(name) as conn:  # nothing after discover ran: no seed, no password table
        assert conn.execute("select to_regclass('migration.backstage_clients')").fetchone() == (None,)
        assert conn.execute("select to_regclass('backstage_restricted.carried_passwords')").fetchone() == (None,)


def test_missing_database_fails_at_the_server_step(server, capsys):
    assert run_command("run_no_such_database_x") == 1
    output = capsys.readouterr()
    assert "[1] server: FAILED" in output.out and "does not exist" in output.out
    assert "step 'server' failed" in output.err


def test_run_stops_at_the_first_failing_step_and_names_it():
    calls: list[str] = []

    def passing(name):
        return runner.Step(name, name, lambda options: calls.append(name) or "done")

    def failing(options):
        calls.append("broken")
        raise runner.StepFailed("the reason")

    def crashing(options):
        calls.append("crash")
        raise KeyError("surprise")

    out = io.StringIO()
    options = runner.RunOptions(database_name="unused", output=out)
    result = runner.run_migration(
        options, [passing("one"), runner.Step("broken", "fails", failing), passing("never")]
    )
    assert not result.ok and result.failed_step == "broken"
    assert calls == ["one", "broken"]
    assert [step.ok for step in result.steps] == [True, False]
    assert "[2] broken: FAILED" in out.getvalue() and "the reason" in out.getvalue()

    crashed = runner.run_migration(options, [runner.Step("crash", "raises", crashing), passing("after")])
    assert crashed.failed_step == "crash" and "KeyError" in crashed.steps[0].message
    assert runner.run_migration(options, [passing("a"), passing("b")]).ok


def test_plan_orders_the_steps():
    assert [step.name for step in runner.plan()] == [
        "server", "lock", "discover", "passwords", "build", "verify", "report"
    ]


# -- counts -------------------------------------------------------------------------------------------------------
TARGET_DDL = [
    "create schema client_mgmt",
    "create schema conversation",
    "create schema events",
    "create table client_mgmt.clients (id int primary key, name text not null)",
    "create table client_mgmt.users (id uuid primary key default gen_random_uuid(), client_id int not null)",
    "create table conversation.participants (id uuid primary key default gen_random_uuid(), client_id int not null)",
    "create table conversation.blocks (block_id uuid primary key default gen_random_uuid(), client_id int not null)",
    "create table conversation.turns (turn_id uuid primary key default gen_random_uuid(), client_id int not null)",
    "create table events.participant_events (id uuid primary key default gen_random_uuid(), client_id int)",
    # files.* deliberately missing: the report must say so rather than fail.
]


@pytest.fixture
def target_database(make_database, connect) -> str:
    name = make_database("run_counts")
    with connect(name) as conn:
        for statement in TARGET_DDL:
            conn.execute(statement)
        conn.execute("insert into client_mgmt.clients values (101, 'Development'), (102, 'BSA'), (105, 'Quiet')")
        for table, rows in {
            "client_mgmt.users": [101] * 3 + [102] * 2,
            "conversation.participants": [101] * 4 + [102] * 3,
            "conversation.blocks": [101] * 2 + [102],
            "conversation.turns": [101] * 7 + [102] * 5,
            "events.participant_events": [101, 101, None, None, None],
        }.items():
            with conn.cursor() as cursor:
                cursor.executemany(f"insert into {table} (client_id) values (%s)", [(client,) for client in rows])
    return name


def test_client_counts_from_hand_made_target_rows(target_database, connect):
    with connect(target_database) as conn:
        counts = reports.client_counts(conn)
    assert counts.missing == ("file_upload", "file_upload_vector")
    assert counts.client_names == {101: "Development", 102: "BSA", 105: "Quiet"}
    assert counts.count(101, "user") == 3 and counts.count(102, "user") == 2
    assert counts.count(101, "turn") == 7 and counts.count(102, "turn") == 5
    assert counts.count(102, "block") == 1 and counts.count(101, "participant") == 4
    assert counts.count(105, "turn") == 0 and counts.count(105, "client") == 1
    assert counts.count(None, "participant_event") == 3 and counts.count(101, "participant_event") == 2
    assert counts.count(101, "file_upload") is None and counts.total("file_upload_vector") is None
    assert counts.total("turn") == 12 and counts.total("participant_event") == 5

    table = reports.format_counts(counts)
    lines = table.splitlines()
    # the client, then the vocabulary's entities in its order
    entities = [entity.name for entity in vocabulary.load().entities]
    assert lines[0].split() == ["client_id", "name", "client", *entities]
    assert entities == ["user", "participant", "block", "turn", "file_upload", "file_upload_vector",
                        "participant_event"]
    row_101 = next(line for line in lines if line.startswith("101 Development"))
    assert row_101.split()[2:] == ["1", "3", "4", "2", "7", "missing", "missing", "2"]
    assert next(line for line in lines if line.startswith("105 Quiet")).split()[2:7] == ["1", "0", "0", "0", "0"]
    assert next(line for line in lines if line.startswith("(no client)")).split()[-1] == "3"
    assert next(line for line in lines if line.startswith("total")).split()[1:] == [
        "3", "5", "7", "3", "12", "missing", "missing", "5"
    ]
    assert "files.file_uploads, files.file_upload_vectors" in lines[-1]


def test_counts_of_an_empty_database_report_every_table_missing(make_database, connect):
    with connect(make_database("run_counts_empty")) as conn:
        counts = reports.client_counts(conn)
    assert counts.missing == counts.entities == tuple(entity for entity, _, _ in reports.counted_tables())
    assert "missing target tables" in reports.format_counts(counts)


# -- end to end ---------------------------------------------------------------------------------------------------
CLIENT_OF_SCHEMA = {"dev": 101, "bsa": 102, "conflict_club": 103, "first_congregational": 104, "timethatremains": 105}
TURN_TABLES = ("grp_topic_avatar_turns", "grp_con_avatar_turns")


@pytest.fixture(scope="module")
def migrated(migrated_template) -> tuple[str, dict, runner.RunResult, str]:
    """A small simulated Backstage, migrated once by the runner: the session's shared template (read here only)."""
    template = migrated_template(0.02, 31)
    return template.name, template.manifest, template.result, template.output


@pytest.mark.slow
def test_end_to_end_run_migrates_every_client(migrated, connect):
    name, manifest, result, output = migrated
    assert result.ok, output[-4000:]
    assert [step.name for step in result.steps] == [step.name for step in runner.plan()]
    with connect(name) as conn:
        counts = reports.client_counts(conn)
    assert counts.missing == ()
    for schema, client_id in CLIENT_OF_SCHEMA.items():
        tables = manifest["schemas"][schema]["tables"]
        source_turns = sum(tables.get(table, 0) for table in TURN_TABLES)
        assert source_turns > 0 and counts.count(client_id, "turn") == source_turns, schema
        assert counts.count(client_id, "client") == 1
        assert counts.count(client_id, "user") > 0 and counts.count(client_id, "block") > 0
    assert "101 Development" in output and "total" in output


@pytest.mark.slow
def test_end_to_end_users_carry_verifiable_hashes_and_no_plaintext(migrated, connect):
    name, manifest, result, output = migrated
    assert result.ok
    known = {entry["participant_id"]: entry for entry in manifest["passwords"]}
    with connect(name) as conn:
        users = conn.execute(
            "select (metadata->>'original_participant_id')::bigint, password_hash, metadata->>'password_status' "
            "from client_mgmt.users"
        ).fetchall()
    assert users
    for participant_id, password_hash, status in users:
        entry = known[participant_id]
        if entry["shape"] in ("bcrypt_2b", "bcrypt_2a"):
            assert status in ("carried", "carried_rewritten")
            assert bcrypt.checkpw(entry["plaintext"].encode(), password_hash.encode()), participant_id
        elif entry["shape"] in ("plaintext", "plaintext_hashedpass", "empty"):
            assert (password_hash, status) == (None, "reset_required")
    for secret in manifest["secrets"]:
        assert secret not in output


@pytest.mark.slow
def test_end_to_end_password_step_is_stable_after_the_run(migrated, connect):
    # A full second run is the marts' re-run test; here: the step the runner ran finds nothing left to change.
    name, _, first, _ = migrated
    assert first.ok
    assert next(step for step in first.steps if step.name == "passwords").message.endswith(
        f"table: {len(known_participants(connect, name))} inserted, 0 updated, 0 deleted"
    )
    again = passwords.carry_passwords(name)
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)


def known_participants(connect, name: str) -> list[int]:
    with connect(name) as conn:
        return [row[0] for row in conn.execute("select id from public.participants").fetchall()]
