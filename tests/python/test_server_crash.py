"""The server dies mid-build (issue 13.2): `kill -9` of the postmaster while a delta run's marts are merging. After a
restart the next run completes, the target equals that of an uninterrupted run table by table, and the audit shows
the interrupted run as unfinished, never as a success.

The crash needs a server of its own (the session's shared server keeps serving every other test): a second embedded
PostgreSQL in a temporary folder, on a free port, named to the tool by the PG* variables.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from backstage_simulator import grow, simulate
from cli_runs import run_in_process, start_run
from psycopg import sql
from ports import free_port
from test_reruns import changed_tables, snapshot

from cogito_migrate import audit, database

pytestmark = pytest.mark.slow

SCALE, SEED = 0.02, 13


class OwnServer:
    """An embedded server of the test's own, run as a child process so that a SIGKILL is a crash it can reap."""

    def __init__(self, folder: Path) -> None:
        self.embedded = database.EmbeddedServer(folder / "pgdata", free_port())
        self.process = self.embedded.start_child()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def restart(self) -> None:
        self.process = self.embedded.start_child()  # crash recovery first

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # a smart shutdown
            self.process.wait(timeout=60)


@pytest.fixture
def own_server(tmp_path_factory, monkeypatch) -> Iterator[OwnServer]:
    server = OwnServer(tmp_path_factory.mktemp("crash"))
    variables = {"PGHOST": "127.0.0.1", "PGPORT": str(server.embedded.port), "PGUSER": database.SUPERUSER}
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PGDATABASE", raising=False)
    try:
        yield server
    finally:
        server.stop()


def kill_server_while_marts_merge(server: OwnServer, name: str, target: Path, log: Path) -> None:
    """A `cogito-migrate run` in a process of its own; the postmaster SIGKILLed once a mart's merge is running."""
    process = start_run(name, target, log)
    deadline = time.monotonic() + 300
    try:
        with database.connect(name) as conn:
            while not conn.execute(
                "select count(*) from pg_stat_activity where pid <> pg_backend_pid() and state = 'active'"
                " and query ilike '%merge into%'"
            ).fetchone()[0]:
                assert process.poll() is None, "the run ended before a mart merged: " + log.read_text()[-2000:]
                assert time.monotonic() < deadline, "no mart merged in time"
                time.sleep(0.005)
            server.kill()
        assert process.wait(timeout=120) != 0, "a run whose server died reported success"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_server_killed_while_marts_merge_restarts_and_the_next_run_ends_like_an_uninterrupted_one(
        own_server, tmp_path):
    name = "crash_killed"
    database.ensure_database(name)
    simulate(name, scale=SCALE, seed=SEED)
    # one dbt target folder per database, so that its later runs reuse dbt's parse (a new database name parses anew)
    result, _, output = run_in_process(name, tmp_path / "killed")
    assert result.ok, output
    grow(name, seed=SEED, amount=0.5)
    # the reference: the same source and target, migrated without interruption
    reference = "crash_reference"
    with database.connect("postgres") as conn:
        conn.execute(sql.SQL("create database {} template {}").format(sql.Identifier(reference), sql.Identifier(name)))
    result, _, output = run_in_process(reference, tmp_path / "reference")
    assert result.ok, output

    kill_server_while_marts_merge(own_server, name, tmp_path / "killed", tmp_path / "killed-run.log")
    own_server.restart()
    result, _, output = run_in_process(name, tmp_path / "killed")
    assert result.ok, output
    assert "1 earlier run(s) that never ended marked unfinished" in output

    assert changed_tables(snapshot(reference), snapshot(name), row_versions=False) == {}
    with database.connect(name) as conn:
        outcomes = [row["outcome"] for row in audit.last_runs(conn, limit=10)]
    assert outcomes == ["success", "unfinished", "success"]
