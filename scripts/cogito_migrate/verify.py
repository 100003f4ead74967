"""`cogito-migrate verify [--database NAME]`: nothing lost, nothing changed, per client and entity.

Reads `migration.reconciliation` (a table the build computes once per run, which its data tests and the run's verify
step read), prints it as a table and exits 1 when any client
and entity does not reconcile: source rows differ from migrated + held rows, or the content hashes of turns,
chunks or events differ. Rows the migration wrote earlier whose Backstage row has since been deleted are listed
(they stay in the target, untouched) but do not fail verification. Neither do turns not yet migrated: written in
Backstage while or after the build read (a version the build's source snapshot does not see, or newer than the
row the build decided on); they are counted apart, with examples, and the next run brings them. A row the build
read as it is and cannot find in the target or the quarantine is missing, and fails verification, moving source
or not. Exit 2: nothing to verify (no build yet).
On its own, the command first recomputes the table (`dbt run --select reconciliation`), so a target or source changed
since the build is seen, unless nothing the build reads changed since the last verified build (build_inputs.py: then
the table it left is the one a recomputation would give); `--as-built` reads it as the last build left it. The
recomputation keeps the build's marker (`keep_build_marker`): "not yet migrated" stays relative to what the
build read.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

import psycopg

from cogito_migrate import build_inputs, database, html_report, reports, vocabulary
from cogito_migrate.dbt import DEFAULT_TARGET, run_dbt

RECONCILIATION = "migration.reconciliation"
COLUMNS = (
    "client_id", "backstage_schema", "entity", "source_rows", "migrated_rows", "held_rows", "fallback_rows",
    "missing_rows", "changed_rows", "not_yet_migrated_rows", "deleted_in_source_rows", "source_content_hash",
    "target_content_hash", "status", "mismatch_examples", "not_yet_migrated_examples", "deleted_in_source_examples",
)


class VerifyError(RuntimeError):
    """Verification could not run (no build has created the reconciliation); the message says what to do."""


@dataclass(frozen=True)
class ReconciliationRow:
    client_id: int | None
    backstage_schema: str | None
    entity: str
    source_rows: int
    migrated_rows: int
    held_rows: int
    fallback_rows: int
    missing_rows: int
    changed_rows: int
    not_yet_migrated_rows: int
    deleted_in_source_rows: int
    source_content_hash: str | None
    target_content_hash: str | None
    status: str
    mismatch_examples: str | None
    not_yet_migrated_examples: str | None
    deleted_in_source_examples: str | None

    @property
    def client(self) -> str:
        if self.client_id is None:
            return "(no client)"
        return f"{self.client_id} {self.backstage_schema or '(unmapped)'}"

    @property
    def content(self) -> str:
        """ok / DIFFERS for entities whose content is hashed (turns, chunks, events), '-' for the others."""
        if self.source_content_hash is None and self.target_content_hash is None:
            return "-"
        return "ok" if self.source_content_hash == self.target_content_hash else "DIFFERS"

    def problem(self) -> str:
        """One readable line saying where and what does not reconcile."""
        accounted = self.migrated_rows + self.held_rows + self.not_yet_migrated_rows
        waiting = f" + not yet migrated {self.not_yet_migrated_rows:,}" if self.not_yet_migrated_rows else ""
        parts = [f"source {self.source_rows:,} {'=' if self.source_rows == accounted else '!='} "
                 f"migrated {self.migrated_rows:,} + held {self.held_rows:,}{waiting}"]
        if self.missing_rows:
            parts.append(f"{self.missing_rows:,} neither migrated nor held")
        if self.changed_rows:
            parts.append(f"{self.changed_rows:,} with other content")
        if self.content == "DIFFERS":
            parts.append(f"content hash {self.source_content_hash} != {self.target_content_hash}")
        if self.mismatch_examples:
            parts.append(f"e.g. {self.mismatch_examples}")
        return f"{self.client} {self.entity}: " + "; ".join(parts)


@dataclass(frozen=True)
class Verification:
    rows: tuple[ReconciliationRow, ...]
    # How the rows were obtained: recomputed now, or as a build left them (and why that is enough).
    provenance: str = ""

    @property
    def mismatches(self) -> tuple[ReconciliationRow, ...]:
        return tuple(row for row in self.rows if row.status == "mismatch")

    @property
    def deletions(self) -> tuple[ReconciliationRow, ...]:
        return tuple(row for row in self.rows if row.deleted_in_source_rows)

    @property
    def not_yet_migrated(self) -> tuple[ReconciliationRow, ...]:
        return tuple(row for row in self.rows if row.not_yet_migrated_rows)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def require_reconciliation(conn: psycopg.Connection) -> None:
    """Raises VerifyError when no build has created the reconciliation yet."""
    if conn.execute("select to_regclass(%s)", (RECONCILIATION,)).fetchone() == (None,):
        raise VerifyError(f"{RECONCILIATION} does not exist: run `cogito-migrate run` first")


def read_reconciliation(conn: psycopg.Connection) -> Verification:
    """The reconciliation, one row per client and entity (no client first, then by client and the vocabulary's
    entity order)."""
    require_reconciliation(conn)
    rows = conn.execute(f"select {', '.join(COLUMNS)} from {RECONCILIATION}").fetchall()
    order = {entity.name: i for i, entity in enumerate(vocabulary.load().entities)}
    parsed = [ReconciliationRow(*row) for row in rows]
    parsed.sort(key=lambda r: (r.client_id is not None, r.client_id or 0, order.get(r.entity, 99), r.entity))
    return Verification(tuple(parsed))


def verify(database_name: str, refresh: bool = False) -> Verification:
    """The reconciliation of `database_name`; with `refresh`, recomputed first against the current source and target
    (the table must exist: a database never built has nothing to reconcile)."""
    try:
        with database.connect(database_name) as conn:
            provenance = "as the last build computed it"
            if refresh:
                require_reconciliation(conn)
                unchanged_since = build_inputs.check(conn).unchanged_since
                if unchanged_since is not None:
                    provenance = f"as {unchanged_since.label} computed it: nothing it reads has changed since"
                else:
                    refresh_reconciliation(database_name)
                    provenance = "recomputed against the current source and target"
            return replace(read_reconciliation(conn), provenance=provenance)
    except database.DatabaseError as exc:  # no server or no such database: its sentence says what to do
        raise VerifyError(str(exc)) from None
    except psycopg.OperationalError as exc:
        raise VerifyError(f"lost the connection to database {database_name!r}: {exc}") from None


def refresh_reconciliation(database_name: str) -> None:
    """Rebuild the reconciliation table alone (no test: a mismatch is this command's finding, not an error)."""
    result = run_dbt("run", "--select", "reconciliation", "--vars", "{keep_build_marker: true}",
                     database_name=database_name, capture=True)
    if not result.ok:
        raise VerifyError(f"recomputing {RECONCILIATION} failed (dbt exited {result.returncode}):\n"
                          + result.stdout[-2000:])


def format_verification(verification: Verification) -> str:
    header = ["client", "entity", "source", "migrated", "held", "fallback", "deleted in source", "not yet migrated",
              "content", "status"]
    rows = [
        [row.client, row.entity, f"{row.source_rows:,}", f"{row.migrated_rows:,}", f"{row.held_rows:,}",
         f"{row.fallback_rows:,}", f"{row.deleted_in_source_rows:,}", f"{row.not_yet_migrated_rows:,}", row.content,
         row.status]
        for row in verification.rows
    ]
    lines = [reports.format_table(header, rows, left_columns=2)]
    for row in verification.mismatches:
        lines.append(f"MISMATCH {row.problem()}")
    for row in verification.deletions:
        examples = f" (e.g. {row.deleted_in_source_examples})" if row.deleted_in_source_examples else ""
        lines.append(
            f"deleted in Backstage since migrated, kept in the target: {row.client} {row.entity} "
            f"{row.deleted_in_source_rows:,}{examples}"
        )
    for row in verification.not_yet_migrated:
        examples = f" (e.g. {row.not_yet_migrated_examples})" if row.not_yet_migrated_examples else ""
        lines.append(f"not yet migrated: {row.client} {row.entity} {row.not_yet_migrated_rows:,}{examples}")
    if verification.not_yet_migrated:
        lines.append(NOT_YET_MIGRATED)
    lines.append(summary(verification))
    return "\n".join(lines)


NOT_YET_MIGRATED = html_report.NOT_YET_MIGRATED


def summary(verification: Verification) -> str:
    if not verification.rows:
        return "verify: the reconciliation is empty (nothing was migrated)"
    pairs = len(verification.rows)
    if verification.mismatches:
        return f"verify: FAILED: {len(verification.mismatches)} of {pairs} client/entity pairs do not reconcile"
    waiting = sum(row.not_yet_migrated_rows for row in verification.rows)
    if waiting:
        return (f"verify: ok: {pairs} client/entity pairs reconcile (source = migrated + held + {waiting:,} not yet "
                "migrated, content hashes equal)")
    return f"verify: ok: {pairs} client/entity pairs reconcile (source = migrated + held, content hashes equal)"


# -- command line ---------------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", help="the migrated database (default: PGDATABASE or cogito)")
    parser.add_argument(
        "--as-built", action="store_true",
        help="read the reconciliation as the last build computed it, without recomputing it first",
    )
    parser.add_argument("--report", type=Path, help="where the HTML report goes (default: target/reports/)")


def command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    database_name = args.database or database.server_address().database
    try:
        verification = verify(database_name, refresh=not args.as_built)
    except VerifyError as exc:
        print(f"verify: {exc}", file=sys.stderr)
        return 2
    print(f"verify: the reconciliation {verification.provenance}", file=out)
    path = args.report or html_report.default_path(DEFAULT_TARGET, "verify", database_name)
    print(f"report: {html_report.write(path, 'verify', database_name, verification)}", file=out)
    print(format_verification(verification), file=out)  # the verdict last
    return 0 if verification.ok else 1
