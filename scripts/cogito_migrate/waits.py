"""Bounded waits: every connection a run opens (its own and dbt's) gives up instead of hanging.

- `lock_timeout` (default 60 s, `COGITO_LOCK_TIMEOUT`): a statement that waits longer for a lock (a table, a row,
  an index) fails. The migration's own statements never wait on each other (dbt runs one statement per table at a
  time, and one run at a time holds the database: run_lock.py); what makes one wait is another session: an open
  transaction of the application that updated a row the merge updates too, or an administrator's `lock table`. A
  minute is far beyond the application's transactions and short enough for an operator at a terminal.
- `statement_timeout` (default 2 h, `COGITO_STATEMENT_TIMEOUT`): a backstop, not a budget. The longest statement is
  the turns' vector index build on a first run (25 s for 200,000 turns on 2 cores); two hours leaves room for far
  larger sources and slower machines, and still ends a statement that will never finish.

Both reach every connection through libpq's PGOPTIONS, which psycopg (the run's steps) and psycopg2 (dbt) read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from cogito_migrate import audit, build_scope, dbt

LOCK_TIMEOUT_VARIABLE = "COGITO_LOCK_TIMEOUT"
STATEMENT_TIMEOUT_VARIABLE = "COGITO_STATEMENT_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = "60s"
DEFAULT_STATEMENT_TIMEOUT = "2h"
# What PostgreSQL says when a bound is reached (SQLSTATE 55P03 and 57014).
LOCK_TIMEOUT_MESSAGE = "canceling statement due to lock timeout"
STATEMENT_TIMEOUT_MESSAGE = "canceling statement due to statement timeout"


def settings() -> dict[str, str]:
    return {
        "lock_timeout": os.environ.get(LOCK_TIMEOUT_VARIABLE, DEFAULT_LOCK_TIMEOUT),
        "statement_timeout": os.environ.get(STATEMENT_TIMEOUT_VARIABLE, DEFAULT_STATEMENT_TIMEOUT),
    }


@contextmanager
def bounded() -> Iterator[dict[str, str]]:
    """The block's new connections carry the timeouts (added to any PGOPTIONS the operator set)."""
    values = settings()
    options = " ".join(f"-c {name}={value}" for name, value in values.items())
    with dbt.environment({"PGOPTIONS": f"{os.environ.get('PGOPTIONS', '')} {options}".strip()}):
        yield values


@dataclass(frozen=True)
class Wait:
    node: str  # the model, test or hook whose statement gave up
    relation: str | None  # the table it was building, schema.table
    bound: str  # which timeout: lock_timeout or statement_timeout


def timed_out(target_path: Path, not_before: datetime) -> list[Wait]:
    """The nodes of this build that failed because a wait reached its bound (from run_results.json)."""
    nodes = (build_scope.read_manifest(target_path) or {}).get("nodes", {})
    waits = []
    for result in audit.read_results(target_path, not_before):
        message = result.get("message") or ""
        bound = ("lock_timeout" if LOCK_TIMEOUT_MESSAGE in message
                 else "statement_timeout" if STATEMENT_TIMEOUT_MESSAGE in message else None)
        if bound is None:
            continue
        node = nodes.get(result["unique_id"], {})
        relation = (f"{node['schema']}.{node.get('alias') or node['name']}"
                    if node.get("resource_type") == "model" else None)
        waits.append(Wait(node.get("name") or result["unique_id"].split(".")[-1], relation, bound))
    return waits


def holders(conn: psycopg.Connection, relation: str) -> list[str]:
    """The other sessions holding a lock on the table (pid, application, state, since when), as pg_locks shows them
    now."""
    rows = conn.execute(
        """
        select distinct activity.pid, coalesce(nullif(activity.application_name, ''), activity.usename),
            activity.state, activity.xact_start
        from pg_locks as held
        inner join pg_stat_activity as activity on held.pid = activity.pid
        where held.granted and held.relation = to_regclass(%s) and held.pid <> pg_backend_pid()
        order by activity.pid
        """,
        (relation,),
    ).fetchall()
    return [f"pid {pid} ({name}, {state}{f', transaction open since {since:%H:%M:%S %Z}' if since else ''})"
            for pid, name, state, since in rows]


def strongly_locked(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Tables of this database another session holds a lock on that blocks readers or writers (share and
    stronger), with the sessions holding them: what a statement of this run may have waited for."""
    rows = conn.execute(
        """
        select distinct held.relation::regclass::text
        from pg_locks as held
        where
            held.granted and held.pid <> pg_backend_pid()
            and held.database = (select oid from pg_database where datname = current_database())
            and held.mode in ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
            and held.relation is not null
        order by 1
        """
    ).fetchall()
    return {table: holders(conn, table) for (table,) in rows}


def describe_step(conn: psycopg.Connection, step: str) -> str:
    """A step's own statement reached lock_timeout (it does not say on what): the tables others hold locked now."""
    locked = strongly_locked(conn)
    held = "; ".join(f"{table} held by {', '.join(sessions)}" for table, sessions in locked.items())
    return (f"step {step} waited longer than lock_timeout ({settings()['lock_timeout']}) for a lock"
            + (f" ({held})" if held else " held by another session")
            + ": end that session's transaction (or wait for it), then run again")


def describe(conn: psycopg.Connection, waits: list[Wait]) -> str:
    """One sentence per wait that gave up: the table, who holds it, what to do."""
    bounds = settings()
    sentences = []
    for wait in waits:
        if wait.bound == "statement_timeout":
            sentences.append(
                f"{wait.node} ran longer than statement_timeout ({bounds['statement_timeout']}): raise "
                f"{STATEMENT_TIMEOUT_VARIABLE} if the source is that large, and run again")
            continue
        table = wait.relation or wait.node
        held_by = holders(conn, wait.relation) if wait.relation else []
        sentences.append(
            f"{wait.node} waited longer than lock_timeout ({bounds['lock_timeout']}) for a lock on {table}"
            + (f", held by {', '.join(held_by)}" if held_by else ", held by another session")
            + ": end that session's transaction (or wait for it), then run again (it picks up where this one "
            "stopped)")
    return "; ".join(sentences)
