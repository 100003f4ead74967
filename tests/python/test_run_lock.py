"""One run at a time (run_lock.py): a second `cogito-migrate run` on a database another run is migrating refuses
at once, naming that run, and the first is unaffected; a killed run leaves no lock behind, and the audit shows it as
unfinished, never as a success.

The running run is a real `cogito-migrate run --always-build` in a subprocess (its own process and host name), on a
copy of the session's small migrated template.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time

import pytest
from cli_runs import run_in_process, start_run

from cogito_migrate import audit, database, run_lock

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 31  # the template test_audit, test_isolation and the property test share


def wait_for_build(database_name: str, process: subprocess.Popen, timeout: float = 120) -> run_lock.Holder:
    """Once the process holds the run lock and its build is writing: the holder, as a second run sees it."""
    deadline = time.monotonic() + timeout
    with database.connect(database_name) as conn:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the first run ended before its build started"
            holder = run_lock.holder(conn)
            building = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and pid <> pg_backend_pid() and state = 'active' and query like '%node_id%model.%'"
            ).fetchone()[0]
            if holder is not None and building:
                return holder
            time.sleep(0.2)
    raise AssertionError("the first run did not start building in time")


def test_a_second_run_refuses_at_once_naming_the_first_which_is_unaffected(migrated_template, copy_database,
                                                                            tmp_path):
    name = copy_database(migrated_template(SCALE, SEED).name, "rec_lock_two")
    first = start_run(name, tmp_path / "first", tmp_path / "first.log", "--always-build")
    try:
        holder = wait_for_build(name, first)
        assert holder.application_name == f"cogito-migrate run {socket.gethostname()} pid {first.pid}"[:63]
        started = time.monotonic()
        result, run_id, output = run_in_process(name, tmp_path / "second")
        refused_in = time.monotonic() - started
        assert result.failed_step == "lock", output
        assert [step.name for step in result.steps] == ["server", "lock"]
        message = result.steps[-1].message
        assert f"another cogito-migrate run is migrating database {name!r}" in message
        assert f"pid {first.pid}" in message and socket.gethostname() in message and " since " in message
        assert "wait for it to finish" in message
        assert refused_in < 30, f"the refusal waited {refused_in:.1f}s"
        # the refused run is recorded as failed at its lock step; the first is running
        with database.connect(name) as conn:
            rows = {str(row["id"]): row for row in audit.last_runs(conn)}
        assert rows[run_id]["outcome"] == "failed" and rows[run_id]["failed_step"] == "lock"
        (first_id,) = [run for run, row in rows.items() if row["outcome"] == "running"]
    finally:
        assert first.wait(timeout=600) == 0, (tmp_path / "first.log").read_text()[-3000:]
    log = (tmp_path / "first.log").read_text()
    assert "run: migration of database" in log and "finished" in log
    with database.connect(name) as conn:
        first_row = {str(row["id"]): row for row in audit.last_runs(conn)}[first_id]
        assert first_row["outcome"] == "success" and first_row["finished_at"] is not None
        assert run_lock.holder(conn) is None  # released when the run ended


def test_a_killed_run_leaves_no_lock_and_reads_unfinished(migrated_template, copy_database, tmp_path):
    """Killed as soon as it holds the lock (a kill mid-build is test_server_crash's and test_reruns' case): the
    server ends its connection, so the lock goes with it, and the next run marks it unfinished."""
    name = copy_database(migrated_template(SCALE, SEED).name, "rec_lock_killed")
    killed = start_run(name, tmp_path / "killed", tmp_path / "killed.log", "--always-build")
    deadline = time.monotonic() + 120
    with database.connect(name) as conn:
        # the run's audit row is written as running just after the lock is taken
        while not (running := [row for row in audit.last_runs(conn) if row["outcome"] == "running"]):
            assert killed.poll() is None and time.monotonic() < deadline, "the run never took the lock"
            time.sleep(0.05)
        assert run_lock.holder(conn) is not None
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    (killed_row,) = running
    # no lock file, nothing to clean up: the next run takes the lock and completes
    result, run_id, output = run_in_process(name, tmp_path / "next")
    assert result.ok, output
    assert "1 earlier run(s) that never ended marked unfinished" in output
    with database.connect(name) as conn:
        rows = {row["id"]: row for row in audit.last_runs(conn)}
    assert rows[killed_row["id"]]["outcome"] == "unfinished" and rows[killed_row["id"]]["finished_at"] is None
    assert str(max(rows.values(), key=lambda row: row["started_at"])["id"]) == run_id
