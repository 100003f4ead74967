"""`cogito-migrate run`: the whole migration against one database, step by step.

The steps, in order (each must succeed before the next runs):

1. server      start the embedded PostgreSQL when the PG* variables name no other server
2. discover    `discover --check`: the generated dbt sources still match the database (an unmapped tenant
               schema stops the run here, with discovery's message)
3. seed        `dbt seed` (the client map)
4. passwords   carry the bcrypt hashes into backstage_restricted.carried_passwords (scripts/passwords.py)
5. build       `dbt build`: staging, intermediate, marts, and every data test
6. report      per-client counts from the target tables (scripts/reports.py)

A reconciliation step (source = migrated + quarantined, per client and entity) belongs between build and
report: add a `Step` to `plan()`. The exit code is 0 when every step passed and 1 when one failed (the run
names it and stops there).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from scripts import database, discovery, passwords, reports
from scripts.dbt import run_dbt


class StepFailed(RuntimeError):
    """A step did not succeed; the message says why (never a secret)."""


@dataclass(frozen=True)
class RunOptions:
    database_name: str
    hash_plaintext_passwords: bool = False
    # A private dbt target folder (tests, concurrent runs); None = the project's target/.
    target_path: Path | None = None
    # Where progress and the report go (None: the current sys.stdout).
    output: TextIO | None = None

    @property
    def out(self) -> TextIO:
        return self.output or sys.stdout


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
    try:
        address = database.start_if_needed()
        with database.connect("postgres") as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (options.database_name,)).fetchone()
    except database.DatabaseError as exc:
        raise StepFailed(str(exc)) from exc
    if not exists:
        raise StepFailed(
            f"database {options.database_name!r} does not exist on {address.url('postgres')}: "
            "restore a Backstage dump into it or run `cogito-migrate simulate` first"
        )
    return address.url(options.database_name)


def check_discovery(options: RunOptions) -> str:
    """`discover --check` through discovery's own command line, so the run stops with exactly its message."""
    parser = argparse.ArgumentParser(prog="cogito-migrate discover")
    discovery.add_arguments(parser)
    args = parser.parse_args(["--check", "--database", options.database_name])
    if discovery.command(args) != 0:
        raise StepFailed("discover --check failed (its message is above); fix the client map or run `cogito-migrate discover`")
    return "generated sources match the database"


def _dbt_step(*dbt_args: str) -> Callable[[RunOptions], str]:
    def run(options: RunOptions) -> str:
        options.out.flush()
        result = run_dbt(*dbt_args, database_name=options.database_name, target_path=options.target_path)
        if result.returncode != 0:
            raise StepFailed(f"dbt {' '.join(dbt_args)} exited with {result.returncode} (its log is above)")
        return "ok"

    return run


def carry_passwords(options: RunOptions) -> str:
    try:
        summary = passwords.carry_passwords(
            options.database_name, hash_plaintexts=options.hash_plaintext_passwords
        )
    except passwords.PasswordStepError as exc:
        raise StepFailed(str(exc)) from None
    return summary.describe()


def report_counts(options: RunOptions) -> str:
    with database.connect(options.database_name) as conn:
        counts = reports.client_counts(conn)
    print(reports.format_counts(counts), file=options.out)
    return f"{len([c for c in counts.counts if c is not None])} clients"


def plan() -> list[Step]:
    """The steps of one run, in order."""
    return [
        Step("server", "start the database server", start_server),
        Step("discover", "check the generated dbt sources against the database", check_discovery),
        Step("seed", "dbt seed", _dbt_step("seed")),
        Step("passwords", "carry password hashes", carry_passwords),
        Step("build", "dbt build", _dbt_step("build")),
        # Issue 5 adds a "verify" step here: reconciliation must pass before the run counts as done.
        Step("report", "per-client counts", report_counts),
    ]


def run_migration(options: RunOptions, steps: list[Step] | None = None) -> RunResult:
    """Run the steps in order, stopping at the first failure. Never raises for a failed step."""
    results: list[StepResult] = []
    for number, step in enumerate(steps if steps is not None else plan(), start=1):
        print(f"[{number}] {step.name}: {step.describe}", file=options.out, flush=True)
        started = time.monotonic()
        try:
            message = step.run(options) or ""
            ok = True
        except StepFailed as exc:
            message, ok = str(exc), False
        except Exception as exc:  # an unexpected error still names its step
            message, ok = f"{type(exc).__name__}: {exc}", False
        result = StepResult(step.name, ok, time.monotonic() - started, message)
        results.append(result)
        status = "ok" if ok else "FAILED"
        print(f"[{number}] {step.name}: {status} in {result.seconds:.1f}s{': ' + message if message else ''}",
              file=options.out, flush=True)
        if not ok:
            break
    return RunResult(results)


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


def command(args: argparse.Namespace) -> int:
    options = RunOptions(
        database_name=args.database or database.server_address().database,
        hash_plaintext_passwords=args.hash_plaintext_passwords,
    )
    result = run_migration(options)
    if result.ok:
        print(f"run: migration of database {options.database_name!r} finished", file=options.out)
        return 0
    options.out.flush()
    print(f"run: step {result.failed_step!r} failed; later steps did not run", file=sys.stderr)
    return 1
