"""The run audit: every `cogito-migrate run` writes one row to events.migration_runs.

A small simulated Backstage is migrated by the real runner (the session's shared template: its run is the first),
then, on a copy, twice more: the second, built over an unchanged source (`--always-build`), records (and prints)
zero rows written; the third skips its build and records that. A run that fails records the failed step. The table
is invisible to the application role.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cogito_migrate import audit, database, runner

SCALE = 0.02
SEED = 31  # the template test_isolation and the property test share
TURN_TABLES = ("grp_topic_avatar_turns", "grp_con_avatar_turns")
STEPS = ["server", "lock", "discover", "passwords", "build", "verify", "report"]


@dataclass(frozen=True)
class Run:
    result: runner.RunResult
    run_id: str | None
    output: str
    target: Path


@dataclass(frozen=True)
class TwoRuns:
    name: str
    manifest: dict[str, Any]
    first: Run
    second: Run  # built again (--always-build) over an unchanged source
    third: Run  # the same, as a plain run: it skips the build
    first_database: str  # the first run's (the copy holds its audit row)


def run(database_name: str, target: Path, always_build: bool = False) -> Run:
    out = io.StringIO()
    options = runner.RunOptions(database_name=database_name, target_path=target, output=out,
                                always_build=always_build)
    result, run_id = runner.run_and_record(options)
    return Run(result, run_id, out.getvalue(), target)


@pytest.fixture(scope="module")
def two_runs(migrated_template, copy_database, tmp_path_factory) -> Iterator[TwoRuns]:
    # the first run is the one that migrated the session's template; the later ones run on a copy of it
    template = migrated_template(SCALE, SEED)
    first = Run(template.result, template.run_id, template.output, template.target)
    name = copy_database(template.name, "rec_audit")
    second = run(name, tmp_path_factory.mktemp("audit_second"), always_build=True)
    third = run(name, second.target)
    yield TwoRuns(name, template.manifest, first, second, third, template.name)


@pytest.fixture(scope="module")
def runs(two_runs) -> dict[str, dict[str, Any]]:
    with database.connect(two_runs.name) as conn:
        return {str(row["id"]): row for row in audit.last_runs(conn, limit=10)}


def source_turns(manifest: dict[str, Any]) -> int:
    return sum(entry["tables"].get(table, 0) for entry in manifest["schemas"].values()
               if entry["layout"] in ("topic", "legacy") for table in TURN_TABLES)


def invocation_id(target: Path) -> str:
    return json.loads((target / "run_results.json").read_text())["metadata"]["invocation_id"]


@pytest.mark.slow
def test_a_run_writes_one_success_row(two_runs, runs):
    assert two_runs.first.result.ok, two_runs.first.output
    assert len(runs) == 3
    row = runs[two_runs.first.run_id]
    assert (row["outcome"], row["failed_step"], row["failure_message"]) == ("success", None, None)
    assert row["database_name"] == two_runs.first_database
    assert row["tool_version"] == metadata.version("cogito-migrate")
    assert row["dbt_version"].startswith("1.11.")
    assert row["clients_migrated"] == [101, 102, 103, 104, 105]
    assert row["started_at"] < row["finished_at"]
    assert [step["step"] for step in row["steps"]] == STEPS and all(step["ok"] for step in row["steps"])
    assert row["dbt_invocation_id"] == invocation_id(two_runs.first.target)
    # what the first run wrote: every source turn once, and every mart reported
    written = row["rows_written"]
    assert written["conversation.turns"] == written["conversation.block_turns"] == source_turns(two_runs.manifest)
    assert written["client_mgmt.clients"] == 5
    assert {"client_mgmt.users", "conversation.participants", "conversation.blocks", "files.file_uploads",
            "files.file_upload_vectors", "events.participant_events", "migration.migration_id_map",
            "migration.quarantine"} <= set(written)
    assert all(count > 0 for count in written.values()), written
    # quarantined per entity and disposition, as the quarantine holds them
    with database.connect(two_runs.name) as conn:
        expected = conn.execute(
            "select count(*) from migration.quarantine where status = 'open' and entity = 'user'"
            " and disposition = 'held'").fetchone()[0]
    assert row["rows_quarantined"]["user"]["held"] == expected > 0
    assert f"audit: run {two_runs.first.run_id} recorded in events.migration_runs (success)" in two_runs.first.output


@pytest.mark.slow
def test_a_second_unchanged_run_records_and_prints_zero_rows_written(two_runs, runs):
    assert two_runs.second.result.ok, two_runs.second.output
    first, second = runs[two_runs.first.run_id], runs[two_runs.second.run_id]
    assert second["outcome"] == "success"
    assert set(second["rows_written"]) == set(first["rows_written"])
    assert sum(second["rows_written"].values()) == 0, second["rows_written"]
    assert second["rows_quarantined"] == first["rows_quarantined"]
    assert second["dbt_invocation_id"] == invocation_id(two_runs.second.target) != first["dbt_invocation_id"]
    assert "[5] build: ok" in two_runs.second.output
    assert two_runs.second.output.count("rows written: 0 (the target already matched the source)") == 2
    assert "rows written: 0" not in two_runs.first.output


@pytest.mark.slow
def test_a_run_that_skips_its_build_records_the_skip_and_no_rows_written(two_runs, runs):
    assert two_runs.third.result.ok, two_runs.third.output
    row = runs[two_runs.third.run_id]
    assert row["outcome"] == "success"
    build = next(step for step in row["steps"] if step["step"] == "build")
    assert build["ok"] and build["skipped"]
    assert not any(step.get("skipped") for run_id in (two_runs.first.run_id, two_runs.second.run_id)
                   for step in runs[run_id]["steps"])
    assert row["rows_written"] == {} and row["dbt_invocation_id"] is None
    assert row["rows_quarantined"] == runs[two_runs.second.run_id]["rows_quarantined"]
    assert "[5] build: ok" in two_runs.third.output and "skipped: nothing it reads changed" in two_runs.third.output


@pytest.mark.slow
def test_the_run_summary_shows_the_verification(two_runs):
    assert "[6] verify: ok" in two_runs.second.output
    assert "verify: ok: " in two_runs.second.output and "MISMATCH" not in two_runs.second.output


def test_a_failed_run_writes_a_failed_row_with_the_step(make_database, connect, tmp_path):
    name = make_database("rec_audit_failed")
    with connect(name) as conn:
        # a legacy-layout tenant the client map does not know: discovery stops the run
        conn.execute("create schema unknown_tenant")
        conn.execute("create table unknown_tenant.grp_cons (id bigserial primary key, name text not null)")
    failed = run(name, tmp_path)
    assert not failed.result.ok and failed.result.failed_step == "discover"
    with connect(name) as conn:
        rows = audit.last_runs(conn)
    assert len(rows) == 1
    row = rows[0]
    assert (row["outcome"], row["failed_step"]) == ("failed", "discover")
    assert "'unknown_tenant'" in row["failure_message"] and "client map" in row["failure_message"]
    assert [step["step"] for step in row["steps"]] == ["server", "lock", "discover"]
    assert [step["ok"] for step in row["steps"]] == [True, True, False]
    # nothing was built: no rows written, no clients, no dbt invocation
    assert (row["rows_written"], row["rows_quarantined"], row["clients_migrated"], row["dbt_invocation_id"]) == (
        {}, {}, [], None
    )
    assert "(failed)" in failed.output


def test_a_run_against_a_missing_database_says_it_was_not_recorded(server, tmp_path):
    missing = run("rec_audit_no_such_database", tmp_path)
    assert missing.result.failed_step == "server" and missing.run_id is None
    assert "audit: run not recorded in events.migration_runs" in missing.output


@pytest.mark.slow
def test_runs_are_invisible_to_the_application_role(two_runs):
    with database.connect(two_runs.name) as conn:
        security, policies = conn.execute(
            "select c.relrowsecurity, (select count(*) from pg_policy p where p.polrelid = c.oid)"
            " from pg_class c where c.oid = 'events.migration_runs'::regclass"
        ).fetchone()
        assert (security, policies) == (True, 0)
        has_client_column = conn.execute(
            "select count(*) from information_schema.columns"
            " where table_schema = 'events' and table_name = 'migration_runs' and column_name = 'client_id'"
        ).fetchone()[0]
        assert has_client_column == 0
    # even granted select, the application role sees no row (no policy lets it); rolled back afterwards
    with database.connect(two_runs.name, autocommit=False) as conn:
        role = conn.execute("select rolname from pg_roles where rolname = 'cogito_app'").fetchone()
        assert role, "the build creates the application role"
        conn.execute("grant usage on schema events to cogito_app")
        conn.execute("grant select on events.migration_runs to cogito_app")
        conn.execute("set local role cogito_app")
        conn.execute("set local app.client_id = '101'")
        assert conn.execute("select count(*) from events.migration_runs").fetchone() == (0,)
        conn.rollback()


# -- rows written from dbt's run_results.json ----------------------------------------------------------------------
def write_run_results(folder: Path, started: datetime) -> None:
    def model(name: str, relation: str, code: str, rows: int) -> dict[str, Any]:
        return {"unique_id": f"model.cogito_migration.{name}", "relation_name": relation,
                "adapter_response": {"code": code, "rows_affected": rows, "_message": f"{code} {rows}"}}

    document = {
        "metadata": {"invocation_id": "abc-123", "dbt_version": "1.11.16",
                     "invocation_started_at": started.isoformat().replace("+00:00", "Z")},
        "results": [
            model("turns", '"db"."conversation"."turns"', "MERGE", 3),
            model("users", '"db"."client_mgmt"."users"', "INSERT", 7),
            model("int_turns_unioned", '"db"."migration_intermediate"."int_turns_unioned"', "SELECT", 900),
            model("stg_backstage__participants", '"db"."backstage_staging"."stg_backstage__participants"',
                  "CREATE VIEW", -1),
            model("reconciliation", '"db"."migration"."reconciliation"', "CREATE VIEW", -1),
            {"unique_id": "seed.cogito_migration.backstage_clients", "relation_name": '"db"."migration"."x"',
             "adapter_response": {"code": "INSERT", "rows_affected": 6}},
            {"unique_id": "test.cogito_migration.unique_turns", "adapter_response": {}},
        ],
    }
    (folder / "run_results.json").write_text(json.dumps(document))


def test_rows_written_count_only_mart_inserts_and_merges(tmp_path):
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    write_run_results(tmp_path, started)
    results = audit.read_run_results(tmp_path, not_before=started - timedelta(seconds=1))
    assert results == audit.DbtResults("abc-123", "1.11.16", {"conversation.turns": 3, "client_mgmt.users": 7})


def test_a_mart_s_first_load_counts_where_the_manifest_says_it_is_a_mart(tmp_path):
    # a mart's first build is a `create table as` (SELECT n); an intermediate table reports the same code
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    write_run_results(tmp_path, started)
    document = json.loads((tmp_path / "run_results.json").read_text())
    document["results"].append({"unique_id": "model.cogito_migration.blocks", "relation_name": '"db"."conversation"."blocks"',
                                "adapter_response": {"code": "SELECT", "rows_affected": 12}})
    (tmp_path / "run_results.json").write_text(json.dumps(document))
    nodes = {f"model.cogito_migration.{name}": {"config": {"materialized": materialized}, "fqn": ["p", folder, name]}
             for name, folder, materialized in [("turns", "marts", "incremental"), ("users", "marts", "incremental"),
                                                ("blocks", "marts", "incremental"),
                                                ("int_turns_unioned", "intermediate", "incremental"),
                                                ("reconciliation", "marts", "table")]}
    (tmp_path / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    results = audit.read_run_results(tmp_path, not_before=started - timedelta(seconds=1))
    assert results.rows_written == {"conversation.turns": 3, "client_mgmt.users": 7, "conversation.blocks": 12}


def test_a_stale_or_missing_run_results_file_is_not_credited(tmp_path):
    assert audit.read_run_results(tmp_path) is None
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    write_run_results(tmp_path, started)
    assert audit.read_run_results(tmp_path, not_before=started + timedelta(seconds=1)) is None


def test_the_table_is_created_on_first_use_with_its_checks(make_database, connect):
    # the table is created on first use, with the documented columns and checks
    name = make_database("rec_audit_table")
    now = datetime.now(timezone.utc)
    with connect(name) as conn:
        row_id = audit.record_run(conn, audit.RunRow(now, now, name, "failed", [], failed_step="build",
                                                     failure_message="dbt build exited with 1"))
        stored = audit.last_runs(conn)
        assert [(str(r["id"]), r["outcome"], r["failed_step"], r["rows_written"]) for r in stored] == [
            (str(row_id), "failed", "build", None)
        ]
        with pytest.raises(psycopg.errors.CheckViolation):
            audit.record_run(conn, audit.RunRow(now, now, name, "success", [], failed_step="build"))


def test_recording_a_run_waits_for_no_reader_of_the_runs(make_database, connect):
    """Once the table is made, a run's start and end only write rows: a session reading the runs in an open
    transaction holds no lock that recording would wait for (making the table would: its row-level security switch
    locks it exclusively)."""
    name = make_database("rec_audit_reader")
    now = datetime.now(timezone.utc)
    with connect(name) as conn:
        audit.record_run(conn, audit.RunRow(now, now, name, "success", []))
    with connect(name) as reader, connect(name) as recorder:
        reader.execute("begin")
        reader.execute(f"select count(*) from {audit.SCHEMA}.{audit.TABLE}")
        recorder.execute("set lock_timeout = '1s'")
        audit.record_start(recorder, uuid.uuid4(), now, name)
        assert [r["outcome"] for r in audit.last_runs(recorder)].count("running") == 1
        reader.execute("rollback")
