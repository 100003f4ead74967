"""The run audit: one row in `events.migration_runs` per `cogito-migrate run`.

A run writes its row when it takes the run lock (run_lock.py), as `running`, and completes it when it ends. A run
that never ended (killed, or its server died) is left `running` until the next run, which holds the lock and so
knows it is gone, marks it `unfinished`: an interrupted run never reads as a success.

The row says when the run started and finished, the tool and dbt versions, the database, the clients it
migrated, the rows it wrote per target table (what dbt's `run_results.json` reports as rows affected by each
mart's insert or merge, so a second run over an unchanged source records zeros), the rows quarantined per
entity (open quarantine rows, by disposition), the outcome (`success`, or `failed` with the step that failed)
and the dbt invocation id of the build.

Written by Python, not dbt, because a run that fails before or during the build must still be recorded. The
table has no client: it describes runs, not client data. Row-level security is enabled with no policy, so
Cogito's application role (whose access every other target table scopes by `app.client_id`) sees none of
it; the migration, which owns the table, is unaffected. A run whose database does not exist records nothing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

SCHEMA = "events"
TABLE = "migration_runs"
OUTCOMES = ("running", "success", "failed", "unfinished")
# Model results that count as rows written: the incremental marts' merge (later builds; INSERT from dbt's other
# strategies) or `create table as` (a mart's first build: SELECT n, counted only where the manifest says the model
# is a mart, since every table model reports it). A table rebuilt on every run (the reconciliation) and an
# intermediate model write no Cogito row.
WRITE_CODES = ("INSERT", "MERGE")
FIRST_LOAD_CODE = "SELECT"

OUTCOME_LIST = ", ".join(f"'{outcome}'" for outcome in OUTCOMES)
TABLE_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.{TABLE} (
    id uuid primary key,
    started_at timestamptz not null,
    finished_at timestamptz,
    tool_version text not null,
    dbt_version text,
    database_name text not null,
    clients_migrated integer[] not null,
    rows_written jsonb,
    rows_quarantined jsonb not null,
    outcome text not null constraint migration_runs_outcome_check check (outcome in ({OUTCOME_LIST})),
    failed_step text,
    failure_message text,
    steps jsonb not null,
    dbt_invocation_id text,
    check ((outcome = 'failed') = (failed_step is not null))
);
alter table {SCHEMA}.{TABLE} enable row level security;
comment on table {SCHEMA}.{TABLE} is
    'One row per cogito-migrate run. No client_id: row-level security is on with no policy, so the application '
    'role sees no row (see cogito_migrate.audit).';
-- a table made before runs were recorded as they start: a finish time may be missing, and two more outcomes
do $upgrade$
begin
    if not exists (
        select from pg_constraint
        where conrelid = '{SCHEMA}.{TABLE}'::regclass and pg_get_constraintdef(oid) like '%unfinished%'
    ) then
        alter table {SCHEMA}.{TABLE}
            alter column finished_at drop not null,
            drop constraint if exists migration_runs_outcome_check,
            add constraint migration_runs_outcome_check check (outcome in ({OUTCOME_LIST}));
    end if;
end
$upgrade$;
"""


@dataclass(frozen=True)
class DbtResults:
    """What one dbt invocation reported: its id, and rows written per target table (`schema.table`)."""

    invocation_id: str | None
    dbt_version: str | None
    rows_written: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRow:
    started_at: datetime
    finished_at: datetime | None
    database_name: str
    outcome: str
    steps: list[dict[str, Any]]
    failed_step: str | None = None
    failure_message: str | None = None
    dbt: DbtResults | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def tool_version() -> str:
    return distribution_version("cogito-migrate")


def read_run_results(target_path: Path, not_before: datetime | None = None) -> DbtResults | None:
    """Rows written per mart from dbt's run_results.json; None when the file is missing or older than `not_before`."""
    document = _run_results(target_path, not_before)
    if document is None:
        return None
    meta = document.get("metadata", {})
    marts = _incremental_marts(target_path)
    written: dict[str, int] = {}
    for result in document.get("results", []):
        response = result.get("adapter_response") or {}
        unique_id = result.get("unique_id", "")
        code = response.get("code")
        first_load = code == FIRST_LOAD_CODE and marts is not None
        if not unique_id.startswith("model.") or not (code in WRITE_CODES or first_load):
            continue
        if marts is not None and unique_id not in marts:
            continue
        table = _table_name(result.get("relation_name")) or result["unique_id"].rsplit(".", 1)[-1]
        written[table] = written.get(table, 0) + max(int(response.get("rows_affected") or 0), 0)
    return DbtResults(meta.get("invocation_id"), meta.get("dbt_version"), written)


def read_results(target_path: Path, not_before: datetime | None = None) -> list[dict[str, Any]]:
    """Every node's result in dbt's run_results.json; [] when the file is missing or older than `not_before`."""
    return (_run_results(target_path, not_before) or {}).get("results", [])


def _run_results(target_path: Path, not_before: datetime | None) -> dict[str, Any] | None:
    """dbt's run_results.json; None when it is missing or older than `not_before` (a stale file from an earlier
    invocation must not be credited to this run)."""
    try:
        document = json.loads((target_path / "run_results.json").read_text())
    except (OSError, ValueError):
        return None
    meta = document.get("metadata", {})
    started = meta.get("invocation_started_at") or meta.get("generated_at")
    if not_before is not None and started and datetime.fromisoformat(started.replace("Z", "+00:00")) < not_before:
        return None
    return document


def _incremental_marts(target_path: Path) -> set[str] | None:
    """The marts merged into (models/marts, materialized incremental), from the invocation's manifest; None when
    there is no manifest to tell (then every insert or merge counts)."""
    try:
        nodes = json.loads((target_path / "manifest.json").read_text()).get("nodes", {})
    except (OSError, ValueError):
        return None
    return {
        uid for uid, node in nodes.items()
        if node.get("config", {}).get("materialized") == "incremental" and "marts" in node.get("fqn", [])
    }


def _table_name(relation_name: str | None) -> str | None:
    """'"db"."conversation"."turns"' -> 'conversation.turns'."""
    if not relation_name:
        return None
    parts = [part.strip('"') for part in relation_name.split(".")]
    return ".".join(parts[-2:])


def ensure_table(conn: psycopg.Connection) -> None:
    """Create or upgrade the table, only when it needs it: its DDL locks the table (the row-level security switch
    exclusively), so run on every start and end it would queue behind any session reading the runs."""
    current = conn.execute(
        """
        select table_.relrowsecurity and exists (
            select from pg_constraint
            where conrelid = table_.oid and pg_get_constraintdef(oid) like '%%unfinished%%'
        )
        from pg_class as table_
        where table_.oid = to_regclass(%s)
        """,
        (f"{SCHEMA}.{TABLE}",),
    ).fetchone()
    if current != (True,):
        conn.execute(TABLE_DDL)


# Source ids kept per quarantine reason, for the HTML report.
SAMPLE_IDS = 3


@dataclass(frozen=True)
class QuarantineReason:
    entity: str
    reason: str
    disposition: str
    rows: int
    sample_ids: tuple[str, ...]  # schema.table.id of a few of its source rows


def quarantine_reasons(conn: psycopg.Connection) -> list[QuarantineReason]:
    """Open quarantine rows per entity, reason and disposition, with the ids of the first few ([] before the
    quarantine exists)."""
    if conn.execute("select to_regclass('migration.quarantine')").fetchone() == (None,):
        return []
    rows = conn.execute(
        f"""
        select entity, reason, disposition, count(*),
            (array_agg(source_schema || '.' || source_table || '.' || source_id
                order by source_schema, source_table, source_id))[1:{SAMPLE_IDS}]
        from migration.quarantine
        where status = 'open'
        group by entity, reason, disposition
        order by entity, reason, disposition
        """
    ).fetchall()
    return [QuarantineReason(entity, reason, disposition, count, tuple(ids))
            for entity, reason, disposition, count, ids in rows]


def _quarantined(conn: psycopg.Connection) -> dict[str, dict[str, int]]:
    """Open quarantine rows per entity and disposition ({} before the quarantine exists)."""
    counts: dict[str, dict[str, int]] = {}
    for reason in quarantine_reasons(conn):
        by_disposition = counts.setdefault(reason.entity, {})
        by_disposition[reason.disposition] = by_disposition.get(reason.disposition, 0) + reason.rows
    return counts


def _clients(conn: psycopg.Connection) -> list[int]:
    """The clients this database migrates (the build's client list); [] before a build created it."""
    if conn.execute("select to_regclass('migration_intermediate.int_clients_mapped')").fetchone() == (None,):
        return []
    return [row[0] for row in conn.execute(
        "select client_id from migration_intermediate.int_clients_mapped order by client_id"
    ).fetchall()]


def record_start(conn: psycopg.Connection, run_id: uuid.UUID, started_at: datetime, database_name: str) -> int:
    """Called holding the run lock: mark the runs of this database still `running` (no run holds the lock but
    this one, so they died) `unfinished`, and write this run's row as `running`. Returns how many were marked."""
    ensure_table(conn)
    marked = conn.execute(
        f"update {SCHEMA}.{TABLE} set outcome = 'unfinished' where outcome = 'running' and database_name = %s",
        (database_name,),
    ).rowcount
    record_run(conn, RunRow(started_at=started_at, finished_at=None, database_name=database_name,
                            outcome="running", steps=[], id=run_id))
    return marked


def record_run(conn: psycopg.Connection, run: RunRow) -> uuid.UUID:
    """Create the table when missing and write the run's row (replacing the one record_start wrote); returns its
    id."""
    ensure_table(conn)
    dbt = run.dbt
    conn.execute(
        f"""
        insert into {SCHEMA}.{TABLE} (
            id, started_at, finished_at, tool_version, dbt_version, database_name, clients_migrated,
            rows_written, rows_quarantined, outcome, failed_step, failure_message, steps, dbt_invocation_id
        ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        on conflict (id) do update set
            finished_at = excluded.finished_at, tool_version = excluded.tool_version,
            dbt_version = excluded.dbt_version, clients_migrated = excluded.clients_migrated,
            rows_written = excluded.rows_written, rows_quarantined = excluded.rows_quarantined,
            outcome = excluded.outcome, failed_step = excluded.failed_step,
            failure_message = excluded.failure_message, steps = excluded.steps,
            dbt_invocation_id = excluded.dbt_invocation_id
        """,
        (
            run.id, run.started_at, run.finished_at, tool_version(), dbt.dbt_version if dbt else None,
            run.database_name, _clients(conn), Jsonb(dbt.rows_written) if dbt else None,
            Jsonb(_quarantined(conn)), run.outcome, run.failed_step, run.failure_message, Jsonb(run.steps),
            dbt.invocation_id if dbt else None,
        ),
    )
    return run.id


def last_runs(conn: psycopg.Connection, limit: int = 5) -> list[dict[str, Any]]:
    """The latest runs, newest first, as dicts (for tests and operators)."""
    if conn.execute(f"select to_regclass('{SCHEMA}.{TABLE}')").fetchone() == (None,):
        return []
    cursor = conn.execute(f"select * from {SCHEMA}.{TABLE} order by started_at desc limit %s", (limit,))
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
