"""`cogito-migrate run`: the whole migration against one database, step by step.

The steps, in order (each must succeed before the next runs):

1. server      start the embedded PostgreSQL when the PG* variables name no other server
2. lock        take the database's run lock (run_lock.py), held until the run ends: a second run refuses at
               once, naming this one; a recorded run writes its audit row now, as `running`
3. discover    `discover --check`: the generated dbt sources still match the database (an unmapped tenant
               schema stops the run here, with discovery's message)
4. passwords   carry the bcrypt hashes into backstage_restricted.carried_passwords (passwords.py)
5. build       `dbt build`: the client map seed, staging, intermediate, marts, quarantine, reconciliation, and
               every data test (a reconciliation mismatch already fails it); rows written per mart come from its
               run_results.json. Not the unit tests: they check the SQL with fixtures, not the data, and run in CI.
               Skipped when nothing it reads changed since the last verified build (build_inputs.py explains
               how that is checked; `--always-build` builds anyway).
6. verify      the reconciliation the build computed, or the verified build left (verify.py): source = migrated
               + held per client and entity, equal content hashes; any mismatch fails the run
7. report      per-client counts from the target tables and the rows this run wrote (0 when nothing changed)

The exit code is 0 when every step passed and 1 when one failed (the run names it and stops there). Either
way `command` records the run in `events.migration_runs` (audit.py) when the database exists.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import psycopg
from psycopg import errors, sql

from cogito_migrate import (
    audit, build_inputs, build_scope, database, discovery, html_report, passwords, progress, reports, run_lock,
    verify, waits,
)
from cogito_migrate.dbt import DEFAULT_TARGET, run_dbt


class StepFailed(RuntimeError):
    """A step did not succeed; the message says why (never a secret)."""


@dataclass
class RunRecord:
    """What the steps learnt along the way, for the summary and the audit row."""

    build_ran: bool = False
    build_skipped: bool = False
    dbt: audit.DbtResults | None = None
    # What this run's build read, kept as the verified build's inputs when the whole run succeeds, and the dbt
    # invocation whose manifest describes the project's graph.
    inputs: build_inputs.Fingerprint | None = None
    graph_invocation_id: str | None = None
    verification: verify.Verification | None = None  # for the HTML report
    # The connection holding the run lock, and the audit row of a recorded run (run_and_record): the lock is
    # released once the run's row is complete.
    run_lock: psycopg.Connection | None = None
    run_id: uuid.UUID | None = None
    started_at: datetime | None = None


@dataclass(frozen=True)
class RunOptions:
    database_name: str
    hash_plaintext_passwords: bool = False
    # Build even when nothing the build reads changed since the last verified build.
    always_build: bool = False
    # A private dbt target folder (tests, concurrent runs); None = the project's target/.
    target_path: Path | None = None
    # Where progress and the report go (None: the current sys.stdout).
    output: TextIO | None = None
    # Stream dbt's own output instead of keeping it in a log file beside run_results.json.
    verbose: bool = False
    # Where the HTML report goes (None: <dbt target>/reports/run-<database>-<time>.html).
    report_path: Path | None = None
    # More dbtRunner callbacks for every dbt command of the run (each receives every dbt event, whatever the log level).
    dbt_callbacks: tuple[Callable[[Any], None], ...] = ()
    record: RunRecord = field(default_factory=RunRecord)

    @property
    def out(self) -> TextIO:
        return self.output or sys.stdout

    @property
    def dbt_target(self) -> Path:
        return self.target_path or DEFAULT_TARGET


@dataclass(frozen=True)
class Step:
    name: str
    describe: str
    run: Callable[[RunOptions], str | None]  # returns a one-line result, raises StepFailed


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    message: str = ""


@dataclass
class RunResult:
    steps: list[StepResult]

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def failed_step(self) -> str | None:
        return next((step.name for step in self.steps if not step.ok), None)


# -- the steps ------------------------------------------------------------------------------------------------------
def start_server(options: RunOptions) -> str:
    """The server runs and the database exists (else database's sentence: what is wrong and what to do)."""
    try:
        address = database.start_if_needed()
        database.connect(options.database_name).close()
    except database.DatabaseError as exc:
        raise StepFailed(str(exc)) from None
    return address.url(options.database_name)


def take_run_lock(options: RunOptions) -> str:
    try:
        options.record.run_lock = run_lock.acquire(options.database_name)
    except run_lock.RunLocked as exc:
        raise StepFailed(str(exc)) from None
    if options.record.run_id is None:
        return f"held until the run ends (pid {options.record.run_lock.info.backend_pid} on the server)"
    marked = audit.record_start(options.record.run_lock, options.record.run_id, options.record.started_at,
                                options.database_name)
    return (f"held until the run ends; audit row {options.record.run_id} written as running"
            + (f"; {marked} earlier run(s) that never ended marked unfinished" if marked else ""))


def release_run_lock(options: RunOptions) -> None:
    if options.record.run_lock is not None:
        options.record.run_lock.close()  # the server releases a session's advisory locks when it ends
        options.record.run_lock = None


def check_discovery(options: RunOptions) -> str:
    """`discover --check`: the run stops with discovery's own sentence (an unmapped schema, a drifted column)."""
    try:
        result = discovery.run(options.database_name, database.PROJECT_ROOT)
        for warning in result.warnings:
            print(f"    {warning}", file=options.out)
        paths = discovery.outputs_paths(database.PROJECT_ROOT)
        outputs = dict(zip(paths, (result.sources_yaml, result.lineage_macro), strict=True))
        discovery.check_generated(result, outputs, database.PROJECT_ROOT)
    except discovery.DiscoveryError as exc:
        raise StepFailed(str(exc)) from None
    return "generated sources match the database"


# dbt lines worth showing the operator when a step fails: the failing nodes and their errors.
DBT_PROBLEM_MARKERS = ("ERROR", "FAIL ", "Failure in", "Database Error", "Compilation Error", "Runtime Error")
DBT_PROBLEM_LINES = 40
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # dbt colours its console lines even when they are captured


def command_line(dbt_args: tuple[str, ...], shown: int = 8) -> str:
    """dbt's arguments for a message: a long node selection is counted, not listed."""
    if len(dbt_args) <= shown:
        return " ".join(dbt_args)
    return f"{' '.join(dbt_args[:shown])} ... ({len(dbt_args) - shown} more arguments)"


def dbt_log(options: RunOptions, command: str) -> Path:
    """Where run_dbt_step keeps a dbt command's output."""
    return options.dbt_target / f"cogito-migrate-{command}.log"


def run_dbt_step(options: RunOptions, *dbt_args: str) -> None:
    """One dbt command. Quiet by default: its output goes to a log file and only the summary line is shown,
    plus the failing nodes when it fails. Raises StepFailed naming the log."""
    options.out.flush()
    # a live line on a terminal (not with --verbose: dbt's own output is the progress then)
    shown_live = progress.live(options.out, f"dbt {dbt_args[0]}") if not options.verbose else nullcontext()
    with shown_live as shown:
        result = run_dbt(
            *dbt_args, database_name=options.database_name, target_path=options.target_path,
            capture=not options.verbose, callbacks=[*([shown.on_event] if shown else []), *options.dbt_callbacks],
        )
    if options.verbose:
        if result.returncode != 0:
            raise StepFailed(f"dbt {command_line(dbt_args)} exited with {result.returncode} (its log is above)")
        return
    log_file = dbt_log(options, dbt_args[0])
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text(result.stdout, encoding="utf-8")
    lines = result.stdout.splitlines()
    summary = next((line.strip() for line in reversed(lines) if "Done. PASS=" in line), None)
    if summary:
        print(f"    dbt {dbt_args[0]}: {summary.split('Done. ', 1)[1]}", file=options.out)
    if result.returncode != 0:
        problems = [ANSI_COLOUR.sub("", line).rstrip() for line in lines
                    if any(marker in line for marker in DBT_PROBLEM_MARKERS)]
        for line in (problems or lines)[-DBT_PROBLEM_LINES:]:
            print(f"    {line}", file=options.out)
        raise StepFailed(f"dbt {command_line(dbt_args)} exited with {result.returncode} (full log: {log_file})")


def carry_passwords(options: RunOptions) -> str:
    try:
        summary = passwords.carry_passwords(
            options.database_name, hash_plaintexts=options.hash_plaintext_passwords
        )
    except passwords.PasswordStepError as exc:
        raise StepFailed(str(exc)) from None
    return summary.describe()


def build(options: RunOptions) -> str:
    """`dbt build`, then the rows each mart's insert or merge affected (from this invocation's run_results.json);
    nothing when the inputs are those of the last verified build."""
    with database.connect(options.database_name) as conn:
        inputs = build_inputs.check(conn)
        before = inputs.current
        if inputs.unchanged_since is not None and not options.always_build:
            options.record.build_skipped = True
            return (f"skipped: nothing it reads changed since {inputs.unchanged_since.label} "
                    f"({len(before.tables)} tables and the project compared)")
        verified = None if options.always_build else inputs.verified
        build_inputs.forget(conn)
    scope = changed_scope(options, verified, before)
    if scope is not None and not scope.nodes:
        options.record.build_skipped = True
        options.record.inputs, options.record.graph_invocation_id = before, verified.dbt_invocation_id
        return f"skipped: no node reads the {len(scope.changed_tables)} tables changed since {verified.label}"
    options.record.build_ran = True
    started = datetime.now(timezone.utc)
    try:
        run_dbt_step(options, "build", "--exclude-resource-type", "unit_test",
                     *(["--select", *scope.selectors] if scope is not None else []))
    except StepFailed:
        log = "dbt's log is above" if options.verbose else f"full log: {dbt_log(options, 'build')}"
        gave_up = waits.timed_out(options.dbt_target, started.replace(microsecond=0))
        if gave_up:
            with database.connect(options.database_name) as conn:
                raise StepFailed(f"{waits.describe(conn, gave_up)} ({log})") from None
        failed = failed_tests(options, started.replace(microsecond=0))
        if failed is None:
            raise
        raise StepFailed(f"{failed}: run the query to see the rows, correct them at their source and run again "
                         f"({log})") from None
    finally:
        options.record.dbt = audit.read_run_results(options.dbt_target, not_before=started.replace(microsecond=0))
    with database.connect(options.database_name) as conn:
        after = build_inputs.take(conn)
    moved = build_inputs.moved_during_build(before, after, build_inputs.written_schemas(options.dbt_target))
    options.record.inputs = None if moved else after
    options.record.graph_invocation_id = options.record.dbt.invocation_id if options.record.dbt else None
    written = reports.format_rows_written(options.record.dbt.rows_written if options.record.dbt else None)
    return (written + (f"; {scope.describe()}" if scope is not None else "")
            + (f"; {len(moved)} source tables changed while it ran: the next run builds again" if moved else ""))


def failed_tests(options: RunOptions, not_before: datetime) -> str | None:
    """The data tests this build failed, each named with the clients of its failing rows (its compiled query from
    run_results.json, grouped by client_id when its rows have one: one query per failed test) and its query's file."""
    results = [result for result in audit.read_results(options.dbt_target, not_before)
               if result["status"] in ("fail", "error")]
    failed = [result for result in results if result["unique_id"].startswith("test.")]
    if not failed:
        return None
    others = sorted(result["unique_id"].split(".")[-1] for result in results if result not in failed)
    nodes = (build_scope.read_manifest(options.dbt_target) or {}).get("nodes", {})
    described = []
    with database.connect(options.database_name) as conn:
        for result in failed:
            node = nodes.get(result["unique_id"], {})
            name = node.get("name") or result["unique_id"].split(".")[2]
            if result["status"] == "error":
                described.append(f"data test {name} could not run: "
                                 f"{(result.get('message') or 'see the log').splitlines()[0][:200]}")
                continue
            query = f"(its query: {node.get('compiled_path', 'under target/compiled/')})"
            try:
                clients = conn.execute(sql.SQL(
                    "select client_id, count(*) from ({}) as failing group by client_id order by client_id"
                ).format(sql.SQL(result["compiled_code"]))).fetchall()
            except psycopg.Error as exc:  # rows without a client_id column (or a query that cannot run again)
                unnamed = "that name no client " if isinstance(exc, errors.UndefinedColumn) else ""
                count = result.get("failures") or 0
                described.append(f"data test {name} failed with {count} row{'s' * (count != 1)} {unnamed}{query}")
                continue
            named = ", ".join(f"client {'(none)' if client is None else client} ({count} row{'s' * (count != 1)})"
                              for client, count in clients)
            described.append(f"data test {name} failed for {named or 'no client any more'} {query}")
    return "; ".join(described) + (f"; and {', '.join(others)} failed too (see the log)" if others else "")


def changed_scope(options: RunOptions, verified: build_inputs.VerifiedBuild | None,
                  current: build_inputs.Fingerprint) -> build_scope.Scope | None:
    """The nodes that read what changed since the verified build (build_scope.py); None: build everything."""
    if verified is None or verified.fingerprint.project_digest != current.project_digest:
        return None
    manifest = build_scope.read_manifest(options.dbt_target)
    if manifest is None or manifest["metadata"].get("invocation_id") != verified.dbt_invocation_id:
        run_dbt_step(options, "parse")  # the verified build's manifest is gone: the graph, as this build sees it
        manifest = build_scope.read_manifest(options.dbt_target)
    return build_scope.scope(verified.fingerprint, current, manifest)


def verify_reconciliation(options: RunOptions) -> str:
    """The reconciliation the build just made, printed; a mismatch fails the run (naming client and entity)."""
    try:
        verification = verify.verify(options.database_name)
    except verify.VerifyError as exc:
        raise StepFailed(str(exc)) from None
    options.record.verification = verification
    print(verify.format_verification(verification), file=options.out)
    if not verification.ok:
        names = ", ".join(f"{row.client} {row.entity}" for row in verification.mismatches)
        raise StepFailed(f"reconciliation mismatch: {names}")
    return f"{len(verification.rows)} client/entity pairs reconcile"


def report_counts(options: RunOptions) -> str:
    with database.connect(options.database_name) as conn:
        counts = reports.client_counts(conn)
    print(reports.format_counts(counts), file=options.out)
    if options.record.build_ran:
        print(reports.format_rows_written(options.record.dbt.rows_written if options.record.dbt else None),
              file=options.out)
    return f"{len([c for c in counts.counts if c is not None])} clients"


def plan() -> list[Step]:
    """The steps of one run, in order."""
    return [
        Step("server", "start the database server", start_server),
        Step("lock", "one run at a time: take the database's run lock", take_run_lock),
        Step("discover", "check the generated dbt sources against the database", check_discovery),
        Step("passwords", "carry password hashes", carry_passwords),
        Step("build", "dbt build", build),
        Step("verify", "reconcile source and target per client and entity", verify_reconciliation),
        Step("report", "per-client counts and rows written", report_counts),
    ]


def run_migration(options: RunOptions, steps: list[Step] | None = None) -> RunResult:
    """Run the steps in order, stopping at the first failure. Never raises for a failed step. Releases the run
    lock at the end, unless the run is being recorded (run_and_record releases it after the audit row)."""
    try:
        with waits.bounded():  # every connection of the run gives up instead of hanging
            return _run_steps(options, steps)
    finally:
        if options.record.run_id is None:
            release_run_lock(options)


def _run_steps(options: RunOptions, steps: list[Step] | None) -> RunResult:
    results: list[StepResult] = []
    for number, step in enumerate(steps if steps is not None else plan(), start=1):
        print(f"[{number}] {step.name}: {step.describe}", file=options.out, flush=True)
        started = time.monotonic()
        try:
            message = step.run(options) or ""
            ok = True
        except StepFailed as exc:
            message, ok = str(exc), False
        except errors.LockNotAvailable:  # the step's own statement reached lock_timeout (waits.py)
            with database.connect(options.database_name) as conn:
                message, ok = waits.describe_step(conn, step.name), False
        except Exception as exc:  # an unexpected error still names its step
            message, ok = f"{type(exc).__name__}: {exc}", False
        result = StepResult(step.name, ok, time.monotonic() - started, message)
        results.append(result)
        status = "ok" if ok else "FAILED"
        print(f"[{number}] {step.name}: {status} in {result.seconds:.1f}s{': ' + message if message else ''}",
              file=options.out, flush=True)
        if not ok:
            break
    run = RunResult(results)
    if run.ok and options.record.inputs is not None:
        with database.connect(options.database_name) as conn:
            # a build that succeeded and reconciled
            build_inputs.record(conn, options.record.inputs, options.record.graph_invocation_id)
    return run


# -- command line ---------------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database", help="database holding Backstage and receiving Cogito (default: PGDATABASE or cogito)"
    )
    parser.add_argument(
        "--hash-plaintext-passwords",
        action="store_true",
        help="give plaintext passwords a fresh bcrypt hash instead of requiring a reset (slow: cost 10 per row)",
    )
    parser.add_argument("--verbose", action="store_true", help="show dbt's full output instead of its summary")
    parser.add_argument(
        "--always-build", action="store_true",
        help="build even when nothing the build reads changed since the last verified build",
    )
    parser.add_argument("--report", type=Path, help="where the HTML report goes (default: target/reports/)")
    parser.add_argument("--target-path", type=Path,
                        help="dbt's target folder (default: the project's target/); one per database keeps dbt's parse")
    parser.add_argument("--full-refresh", action="store_true",
                        help="refused: the Cogito tables are never rebuilt (the message says what to do instead)")


# What `run --full-refresh` answers; plain `dbt build --full-refresh` meets the same refusal from the on-run-start
# hook (macros/marts/refuse_full_refresh.sql) once the marts exist.
FULL_REFRESH_REFUSED = (
    "run: refusing --full-refresh: it would rebuild the Cogito tables, deleting every row Cogito wrote since cutover; "
    "run `cogito-migrate run` without it (it brings every change across), or, before the switch only, drop the schemas "
    "the migration writes (README, cutover runbook, Roll back) and run again"
)


def run_and_record(options: RunOptions, steps: list[Step] | None = None) -> tuple[RunResult, str | None]:
    """Run the migration, then write its row to events.migration_runs. Returns the result and the audit row id
    (None when the row could not be written, e.g. the database does not exist; the reason is printed)."""
    options.record.run_id, options.record.started_at = uuid.uuid4(), datetime.now(timezone.utc)
    try:
        return _run_and_record(options, steps)
    finally:
        release_run_lock(options)


def _run_and_record(options: RunOptions, steps: list[Step] | None) -> tuple[RunResult, str | None]:
    result = run_migration(options, steps)
    run = audit.RunRow(
        id=options.record.run_id,
        started_at=options.record.started_at,
        finished_at=datetime.now(timezone.utc),
        database_name=options.database_name,
        outcome="success" if result.ok else "failed",
        steps=[
            {"step": step.name, "ok": step.ok, "seconds": round(step.seconds, 3),
             **({"skipped": True} if step.name == "build" and options.record.build_skipped else {})}
            for step in result.steps
        ],
        failed_step=result.failed_step,
        failure_message=next((step.message for step in result.steps if not step.ok), None),
        # no build, no writes: the run changed nothing in the target
        dbt=options.record.dbt if options.record.build_ran else audit.DbtResults(None, None, {}),
    )
    try:
        with database.connect(options.database_name) as conn:
            run_id = audit.record_run(conn, run)
    except database.DatabaseError:
        print(f"audit: run not recorded in {audit.SCHEMA}.{audit.TABLE}: no database to record it in", file=options.out)
        return result, None
    except psycopg.Error as exc:
        print(f"audit: run not recorded in {audit.SCHEMA}.{audit.TABLE}: {type(exc).__name__}", file=options.out)
        return result, None
    print(f"audit: run {run_id} recorded in {audit.SCHEMA}.{audit.TABLE} ({run.outcome})", file=options.out)
    write_report(options)
    return result, str(run_id)


def write_report(options: RunOptions) -> None:
    """The run's HTML report (html_report), its path printed; a run stopped before verify reports what the last
    build's reconciliation holds, if any."""
    verification = options.record.verification
    if verification is None:
        try:
            with database.connect(options.database_name) as conn:
                verification = verify.read_reconciliation(conn)
        except verify.VerifyError:
            verification = verify.Verification((), "does not exist yet (no build has made it)")
    path = options.report_path or html_report.default_path(options.dbt_target, "run", options.database_name)
    try:
        print(f"report: {html_report.write(path, 'run', options.database_name, verification)}", file=options.out)
    except OSError as exc:  # the run itself is done and recorded: say so, do not fail it
        print(f"report: not written to {path}: {exc.strerror}", file=options.out)


def command(args: argparse.Namespace) -> int:
    if args.full_refresh:
        print(FULL_REFRESH_REFUSED, file=sys.stderr)
        return 2
    options = RunOptions(
        database_name=args.database or database.server_address().database,
        hash_plaintext_passwords=args.hash_plaintext_passwords,
        verbose=args.verbose,
        always_build=args.always_build,
        report_path=args.report,
        target_path=args.target_path,
    )
    result, _ = run_and_record(options)
    if result.ok:
        print(f"run: migration of database {options.database_name!r} finished", file=options.out)
        return 0
    options.out.flush()
    failed = next(step for step in result.steps if not step.ok)
    print(f"run: step {failed.name!r} failed, later steps did not run: {failed.message}", file=sys.stderr)
    return 1
