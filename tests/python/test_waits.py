"""Bounded waits (waits.py) and a live application: a lock another session holds on a target table makes the run
fail after lock_timeout, naming the table and the session, instead of hanging, and once the session lets go the
next run completes; a rebuild takes no lock that waits for the application's open write transactions.

One copy of the session's small migrated template serves the module, in order (each test leaves it migrated).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cogito_migrate import database, runner, waits

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 31  # the template test_audit, test_run_lock and the property test share
TARGET_SCHEMAS = ("client_mgmt", "conversation", "events", "files")


@pytest.fixture(scope="module")
def copy(migrated_template, copy_database) -> str:
    return copy_database(migrated_template(SCALE, SEED).name, "rec_waits")


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("waits")


@pytest.fixture
def short_bound(monkeypatch) -> Iterator[str]:
    monkeypatch.setenv(waits.LOCK_TIMEOUT_VARIABLE, "3s")
    yield "3s"


def run(database_name: str, target: Path, always_build: bool = False) -> tuple[runner.RunResult, str]:
    out = io.StringIO()
    options = runner.RunOptions(database_name=database_name, target_path=target, output=out,
                                always_build=always_build)
    result, _ = runner.run_and_record(options)
    return result, out.getvalue()


def test_a_rebuild_takes_no_lock_that_waits_for_the_application_s_open_write_transactions(copy, target, short_bound):
    """The application, as its role, holds an open transaction that writes every target table (ROW EXCLUSIVE on
    each): a run that asked for a SHARE or ACCESS EXCLUSIVE lock on one of them (`alter table`, `create policy`,
    `create index`) would wait for it and fail after the bound; a rebuild of every model takes none."""
    with database.connect(copy, autocommit=False) as application:
        tables = [table for (table,) in application.execute(
            "select format('%%I.%%I', schemaname, tablename) from pg_tables where schemaname = any(%s)"
            " and has_table_privilege('cogito_app', format('%%I.%%I', schemaname, tablename), 'insert') order by 1",
            (list(TARGET_SCHEMAS),)).fetchall()]
        application.execute("set role cogito_app")
        for table in tables:
            application.execute(f"lock table {table} in row exclusive mode")
        result, output = run(copy, target, always_build=True)
        application.rollback()
    assert len(tables) >= 12
    assert result.ok, output


def test_a_table_lock_held_elsewhere_stops_the_run_after_the_bound_naming_table_and_session(copy, target,
                                                                                           short_bound):
    with database.connect(copy, autocommit=False) as holder:
        holder.execute("lock table conversation.blocks in access exclusive mode")
        holder_pid = holder.info.backend_pid
        started = time.monotonic()
        result, output = run(copy, target)
        waited = time.monotonic() - started
        holder.rollback()
    assert result.failed_step == "build", output
    message = result.steps[-1].message
    # the build's snapshot of its inputs reads every table first: it is the statement that gives up
    assert f"step build waited longer than lock_timeout ({short_bound}) for a lock" in message, message
    assert f"conversation.blocks held by pid {holder_pid} " in message and "transaction open since" in message
    assert "end that session's transaction (or wait for it), then run again" in message
    assert waited < 60, f"the blocked run took {waited:.0f}s"


def test_a_row_the_application_holds_fails_the_merge_after_the_bound_then_the_change_arrives(copy, target,
                                                                                             short_bound):
    """The application updated a user's row and keeps its transaction open, while the person's email changed in
    Backstage: the users mart's merge waits for that row, gives up after the bound, and says where; the next run
    brings the change and keeps the application's write."""
    with database.connect(copy) as conn:
        participant_id, user_id = conn.execute(
            "select source_id::bigint, cogito_id from migration.migration_id_map"
            " where entity = 'user' and source_table = 'participants' order by source_id limit 1").fetchone()
        conn.execute("update public.participants set email = 'renamed.' || email where id = %s", (participant_id,))
    with database.connect(copy, autocommit=False) as application:
        application.execute("update client_mgmt.users set last_login = now() where id = %s", (user_id,))
        application_pid = application.info.backend_pid
        result, output = run(copy, target)
        application.commit()
    assert result.failed_step == "build", output
    message = result.steps[-1].message
    assert f"users waited longer than lock_timeout ({short_bound}) for a lock on client_mgmt.users" in message, message
    assert f"held by pid {application_pid} " in message
    result, output = run(copy, target)
    assert result.ok, output
    with database.connect(copy) as conn:
        login, email = conn.execute("select last_login, email from client_mgmt.users where id = %s",
                                    (user_id,)).fetchone()
    assert login is not None and email.startswith("renamed.")  # the application's write kept, the change in


def test_every_connection_of_a_run_carries_the_bounds(monkeypatch):
    monkeypatch.setenv(waits.LOCK_TIMEOUT_VARIABLE, "7s")
    monkeypatch.setenv("PGOPTIONS", "-c work_mem=8MB")
    with waits.bounded(), database.connect("postgres") as conn:
        settings = dict(conn.execute(
            "select name, setting from pg_settings where name in ('lock_timeout', 'statement_timeout', 'work_mem')"
        ).fetchall())
    assert settings == {"lock_timeout": "7000", "statement_timeout": str(2 * 3600 * 1000), "work_mem": "8192"}
