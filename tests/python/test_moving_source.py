"""Backstage written while a run builds (runbook step 3, before the freeze): turns inserted or edited in a tenant
while the build reads neither fail the run nor get lost. The run and verify count them as not yet migrated (not
missing), the next run migrates them, and a turn really lost from the target is still missing, moving source or not.

Deterministic: the test holds the reconciliation's hold point (an advisory lock its pre-hook takes, macro
`reconciliation_hold_point`) while a real delta `cogito-migrate run` builds in a process of its own; once that
build waits there, every mart has merged and the reconciliation has not read yet. The test writes Backstage then,
and lets go.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from cogito_migrate import cli, database, verify
import backstage_changes as bc

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 31  # the template test_run_lock, test_audit and the property test share
HOLD_POINT = "select pg_advisory_lock(hashtextextended('cogito-migrate: reconciliation hold point', 0))"


def start_run(database_name: str, folder: Path) -> subprocess.Popen:
    """`cogito-migrate run` in a process of its own, its output in folder/run.log, dbt's target in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "cogito_migrate.cli", "run", "--database", database_name,
               "--target-path", str(folder)]
    return subprocess.Popen(command, stdout=(folder / "run.log").open("w"), stderr=subprocess.STDOUT)


def wait_at_hold_point(conn: psycopg.Connection, process: subprocess.Popen, timeout: float = 180) -> None:
    """Until a session of the run waits for the hold point this connection holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before its reconciliation"
        waiting = conn.execute(
            "select count(*) from pg_stat_activity where wait_event = 'advisory'"
            " and pg_backend_pid() = any(pg_blocking_pids(pid))"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.2)
    raise AssertionError("the run's reconciliation did not reach the hold point in time")


def verify_command(database_name: str) -> tuple[int, str, verify.Verification]:
    """`cogito-migrate verify` (recomputed against the current source and target): exit code, output, figures."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["verify", "--database", database_name])
    with database.connect(database_name) as conn:
        return code, printed.getvalue(), verify.read_reconciliation(conn)


def turn_figures(verification: verify.Verification, client_id: int) -> verify.ReconciliationRow:
    return next(row for row in verification.rows if row.client_id == client_id and row.entity == "turn")


def test_turns_written_while_the_build_reads_arrive_with_the_next_run_and_loss_is_still_loss(
        migrated_template, copy_database, tmp_path):
    name = copy_database(migrated_template(SCALE, SEED).name, "rec_moving")
    with database.connect(name) as conn:
        tenant = bc.migrated_tenants(conn)[0]
        turns = [row[0] for row in bc.turn_rows(conn, tenant) if row[1] is not None]
        # a change before the run, so that it is a delta run that builds
        bc.insert_turn_after(conn, tenant, turns[0], between=False)
        conn.commit()
    edited, lost = turns[1], turns[2]

    with database.connect(name) as hold:
        hold.autocommit = True
        hold.execute(HOLD_POINT)
        run = start_run(name, tmp_path / "first")
        try:
            wait_at_hold_point(hold, run)
            with database.connect(name) as conn:  # Backstage's application, while the build runs
                bc.insert_turn_after(conn, tenant, turns[3], between=False)
                bc.insert_turn_after(conn, tenant, turns[4], between=True)
                bc.edit_turn_by_id(conn, tenant, edited)
                conn.commit()
        finally:
            hold.execute("select pg_advisory_unlock_all()")
            run.wait(timeout=300)
    output = (tmp_path / "first" / "run.log").read_text()
    assert run.returncode == 0, output[-4000:]
    assert "source tables changed while it ran: the next run builds again" in output
    assert f"not yet migrated: {tenant.client_id} {tenant.schema} turn 3 (e.g. " in output

    code, printed, verification = verify_command(name)
    assert code == 0, printed
    figures = turn_figures(verification, tenant.client_id)
    assert (figures.not_yet_migrated_rows, figures.missing_rows, figures.changed_rows, figures.status) == (
        3, 0, 0, "reconciled")
    assert f"{tenant.schema}.{tenant.turn_table}.{edited}" in figures.not_yet_migrated_examples
    assert figures.source_rows == figures.migrated_rows + figures.held_rows + 3
    assert "the next run brings them" in printed and "verify: ok:" in printed

    # the next run (its dbt target reused: no new parse) migrates them; its verify step finds none left
    returncode = start_run(name, tmp_path / "first").wait(timeout=300)
    output = (tmp_path / "first" / "run.log").read_text()
    assert returncode == 0, output[-4000:]
    assert "not yet migrated:" not in output
    assert "pairs reconcile (source = migrated + held, content hashes equal)" in output
    with database.connect(name) as conn:
        content = conn.execute("select content from conversation.turns where turn_id = %s",
                               (bc.turn_uuid(tenant.client_id, tenant.schema, tenant.turn_table, edited),)).fetchone()
        assert content[0].endswith(" (edited)")
        new_turns = conn.execute(
            "select count(*) from conversation.turns where content like %s and client_id = %s",
            ("a % after turn %", tenant.client_id)).fetchone()[0]
        assert new_turns == 3  # the one before the first run and the two written while it built

    # the control: Backstage moves again (a turn not yet migrated) while a turn the build read is lost from the
    # target: the loss is missing and fails verify, the new turn is still only not yet migrated
    with database.connect(name) as conn:
        bc.insert_turn_after(conn, tenant, turns[5], between=False)
        lost_uuid = bc.turn_uuid(tenant.client_id, tenant.schema, tenant.turn_table, lost)
        conn.execute("delete from conversation.block_turns where turn_id = %s", (lost_uuid,))
        conn.execute("delete from conversation.turns where turn_id = %s", (lost_uuid,))
        conn.commit()
    code, printed, verification = verify_command(name)
    assert code == 1, printed
    figures = turn_figures(verification, tenant.client_id)
    assert (figures.missing_rows, figures.not_yet_migrated_rows, figures.status) == (1, 1, "mismatch")
    assert f"{tenant.schema}.{tenant.turn_table}.{lost} missing" in figures.mismatch_examples
    assert f"MISMATCH {tenant.client_id} {tenant.schema} turn: " in printed and "1 neither migrated nor held" in printed