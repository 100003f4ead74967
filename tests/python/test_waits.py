"""Bounded waits (waits.py): a lock another session holds on a target table makes the run fail after
lock_timeout, naming the table and the session, instead of hanging; once the session lets go, the next run
completes.
"""

from __future__ import annotations

import io
import time

import pytest

from cogito_migrate import database, runner, waits

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 31  # the template test_audit, test_run_lock and the property test share


def run(database_name: str, target) -> tuple[runner.RunResult, str]:
    out = io.StringIO()
    options = runner.RunOptions(database_name=database_name, target_path=target, output=out, always_build=True)
    result, _ = runner.run_and_record(options)
    return result, out.getvalue()


def test_a_lock_held_elsewhere_fails_the_build_after_the_bound_naming_table_and_session(
        migrated_template, copy_database, tmp_path, monkeypatch):
    name = copy_database(migrated_template(SCALE, SEED).name, "rec_waits")
    monkeypatch.setenv(waits.LOCK_TIMEOUT_VARIABLE, "2s")
    with database.connect(name, autocommit=False) as holder:
        holder.execute("lock table conversation.blocks in access exclusive mode")
        holder_pid = holder.info.backend_pid
        started = time.monotonic()
        result, output = run(name, tmp_path / "blocked")
        waited = time.monotonic() - started
        holder.rollback()
    assert result.failed_step == "build", output
    message = result.steps[-1].message
    # the build's snapshot of its inputs reads every table first: it is the statement that gives up
    assert "step build waited longer than lock_timeout (2s) for a lock" in message, message
    assert f"conversation.blocks held by pid {holder_pid} " in message and "transaction open since" in message
    assert "end that session's transaction (or wait for it), then run again" in message
    assert waited < 300, f"the blocked run took {waited:.0f}s"
    # the session let go: the next run completes
    result, output = run(name, tmp_path / "blocked")
    assert result.ok, output


def test_a_row_the_application_holds_fails_the_merge_after_the_bound_naming_table_and_session(
        migrated_template, copy_database, tmp_path, monkeypatch):
    """The application updated a user's row and keeps its transaction open, while the person's name changed in
    Backstage: the users mart's merge waits for that row, gives up after the bound, and says where."""
    name = copy_database(migrated_template(SCALE, SEED).name, "rec_waits_row")
    monkeypatch.setenv(waits.LOCK_TIMEOUT_VARIABLE, "2s")
    with database.connect(name) as conn:
        participant_id, user_id = conn.execute(
            "select source_id::bigint, cogito_id from migration.migration_id_map"
            " where entity = 'user' and source_table = 'participants' order by source_id limit 1").fetchone()
        conn.execute("update public.participants set name = name || ' Jr.' where id = %s", (participant_id,))
    with database.connect(name, autocommit=False) as application:
        application.execute("update client_mgmt.users set last_login = now() where id = %s", (user_id,))
        application_pid = application.info.backend_pid
        result, output = run(name, tmp_path / "blocked")
        application.commit()
    assert result.failed_step == "build", output
    message = result.steps[-1].message
    assert "users waited longer than lock_timeout (2s) for a lock on client_mgmt.users" in message, message
    assert f"held by pid {application_pid} " in message
    result, output = run(name, tmp_path / "blocked")
    assert result.ok, output
    with database.connect(name) as conn:
        (login,) = conn.execute("select last_login from client_mgmt.users where id = %s", (user_id,)).fetchone()
        (participant_name,) = conn.execute(
            "select name from conversation.participants where user_id = %s", (user_id,)).fetchone()
    assert login is not None and participant_name.endswith(" Jr.")  # the application's write kept, the change in


TARGET_SCHEMAS = ("client_mgmt", "conversation", "events", "files")


def test_a_rebuild_takes_no_lock_that_waits_for_the_application_s_open_write_transactions(
        migrated_template, copy_database, tmp_path, monkeypatch):
    """The application, as its role, holds an open transaction that writes every target table (ROW EXCLUSIVE on
    each): a run that asked for a SHARE or ACCESS EXCLUSIVE lock on one of them (`alter table`, `create policy`,
    `create index`) would wait for it and fail after the bound; a rebuild of every model takes none."""
    name = copy_database(migrated_template(SCALE, SEED).name, "rec_waits_live")
    monkeypatch.setenv(waits.LOCK_TIMEOUT_VARIABLE, "3s")
    with database.connect(name, autocommit=False) as application:
        tables = [table for (table,) in application.execute(
            "select format('%%I.%%I', schemaname, tablename) from pg_tables where schemaname = any(%s)"
            " and has_table_privilege('cogito_app', format('%%I.%%I', schemaname, tablename), 'insert') order by 1",
            (list(TARGET_SCHEMAS),)).fetchall()]
        application.execute("set role cogito_app")
        for table in tables:
            application.execute(f"lock table {table} in row exclusive mode")
        result, output = run(name, tmp_path / "live")
        application.rollback()
    assert len(tables) >= 12
    assert result.ok, output


def test_every_connection_of_a_run_carries_the_bounds(monkeypatch):
    monkeypatch.setenv(waits.LOCK_TIMEOUT_VARIABLE, "7s")
    monkeypatch.setenv("PGOPTIONS", "-c work_mem=8MB")
    with waits.bounded(), database.connect("postgres") as conn:
        settings = dict(conn.execute(
            "select name, setting from pg_settings where name in ('lock_timeout', 'statement_timeout', 'work_mem')"
        ).fetchall())
    assert settings == {"lock_timeout": "7000", "statement_timeout": str(2 * 3600 * 1000), "work_mem": "8192"}
