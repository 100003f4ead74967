"""Running dbt against the project's database, with credentials taken from the environment.

dbt runs inside this process (dbt's programmatic API, dbtRunner): no Python and dbt start-up per command, and
consecutive commands on one database with one target folder reuse dbt's partial parse. `start_dbt_process` keeps
a real subprocess for the one case that needs it: a dbt killed half-way.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cogito_migrate import database, vocabulary

if TYPE_CHECKING:  # dbt is imported on first use: `cogito-migrate db status` need not load it
    from dbt.cli.main import dbtRunnerResult

PROFILES_DIR = database.PROJECT_ROOT / "profiles"
# dbt's target folder when a command names none (dbt's own default, in the project).
DEFAULT_TARGET = database.PROJECT_ROOT / "target"
# dbt's saved parse in a target folder: a later command of the same project and profile starts from it.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# dbt refuses an option its command does not declare, and these commands have no --target-path.
WITHOUT_TARGET_PATH = frozenset({"debug", "deps", "init"})
# The most the first build of a vector index may use (var vector_index_build_memory reads it); see
# vector_index_build_memory().
INDEX_MEMORY_VARIABLE = "COGITO_VECTOR_INDEX_BUILD_MEMORY"
# The share of this machine's memory that build may take on the embedded server (which runs on this machine).
EMBEDDED_INDEX_MEMORY_SHARE = 3
# dbt keeps process-wide state (flags, adapters, loggers) and reads the profile's env_var()s from os.environ:
# one invocation at a time.
_INVOCATION_LOCK = threading.Lock()


@dataclass(frozen=True)
class DbtResult:
    """One finished dbt command: its exit code as the `dbt` executable would give it, and what it printed."""

    args: tuple[str, ...]
    returncode: int  # 0 success, 1 failed nodes or tests, 2 an error that stopped dbt (as the executable)
    stdout: str  # dbt's console output ("" when it went straight to sys.stdout)
    result: dbtRunnerResult  # dbt's own outcome: result.result holds the run results, the catalog, ...

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def vector_index_build_memory() -> str:
    """The most the first build of a vector index may use: the operator's COGITO_VECTOR_INDEX_BUILD_MEMORY; on the
    embedded server, a third of this machine's memory (the graph of a million 1536-dimension vectors needs about
    7GB); on another server, dbt_project.yml's default, since its memory is not known here. The build takes only
    what its graph needs (macro vector_index_build_memory)."""
    chosen = os.environ.get(INDEX_MEMORY_VARIABLE)
    if chosen:
        return chosen
    if database.uses_external_server():
        declared = str(vocabulary.project_variables()["vector_index_build_memory"])
        default = re.search(rf"env_var\(\s*'{INDEX_MEMORY_VARIABLE}'\s*,\s*'([^']+)'\s*\)", declared)
        return default.group(1) if default else declared
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{physical // EMBEDDED_INDEX_MEMORY_SHARE // 2**20}MB"


def dbt_variables(database_name: str | None = None) -> dict[str, str]:
    """The variables the profile and the project read (PG* for the chosen database, the vector index's memory)
    and the ones that keep dbt quiet."""
    address = database.server_address()
    return {
        **address.environment(database_name),
        INDEX_MEMORY_VARIABLE: vector_index_build_memory(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": os.environ.get("DBT_SEND_ANONYMOUS_USAGE_STATS", "false"),
        # dbt's file log at info: every node's outcome and error, not every SQL statement (debug, dbt's default, made
        # a scale-10 build about 15% slower: 34 s against 29-31 s); DBT_LOG_LEVEL_FILE=debug brings them back
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "info"),
    }


def dbt_arguments(args: tuple[str, ...], project_dir: Path | None, target_path: Path | None) -> list[str]:
    """The command line: the caller's arguments, then where the project, profiles, target and logs are.
    Without a target_path, dbt's own defaults: target/ and logs/ in the project."""
    project = Path(project_dir or database.PROJECT_ROOT)
    target = Path(target_path or project / "target")
    command = next((arg for arg in args if not arg.startswith("-")), "")
    located = [
        *args,
        "--project-dir", str(project),
        "--profiles-dir", str(PROFILES_DIR),
        "--log-path", str(target / "logs" if target_path else project / "logs"),
    ]
    return located if command in WITHOUT_TARGET_PATH else [*located, "--target-path", str(target)]


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `variables` set for the duration of the block, then exactly as it was."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def captured_console(capture: bool) -> Iterator[io.StringIO]:
    """dbt's console log into a buffer (dbt's own hook, read when the invocation sets up its loggers)."""
    from dbt_common.events.functions import capture_stdout_logs, stop_capture_stdout_logs

    buffer = io.StringIO()
    if capture:
        capture_stdout_logs(buffer)
    try:
        yield buffer
    finally:
        stop_capture_stdout_logs()


def exit_code(outcome: dbtRunnerResult) -> int:
    """The `dbt` executable's exit code for an in-process outcome."""
    if outcome.success:
        return 0
    return 1 if outcome.exception is None else 2


def run_dbt(
    *args: str,
    database_name: str | None = None,
    target_path: Path | None = None,
    project_dir: Path | None = None,
    capture: bool = False,
    check: bool = False,
    callbacks: list[Callable[[Any], None]] | None = None,
) -> DbtResult:
    """Run one dbt command in this process (e.g. run_dbt("build", "--select", "staging")).

    capture=False lets dbt print to sys.stdout; check=True raises RuntimeError when the command fails; callbacks
    receive every event dbt fires (cogito_migrate.progress).
    """
    from dbt.cli.main import dbtRunner

    cli_args = dbt_arguments(args, project_dir, target_path)
    with _INVOCATION_LOCK, environment(dbt_variables(database_name)), captured_console(capture) as console:
        outcome = dbtRunner(callbacks=callbacks or []).invoke(cli_args)
    if isinstance(outcome.exception, KeyboardInterrupt):
        raise outcome.exception  # dbtRunner swallows Ctrl-C; the caller must still stop
    output = console.getvalue()
    # Errors raised before dbt's loggers exist (a bad option) are printed by nobody: keep them in the output.
    if outcome.exception is not None and str(outcome.exception) not in output:
        output += f"{type(outcome.exception).__name__}: {outcome.exception}\n"
    result = DbtResult(tuple(args), exit_code(outcome), output, outcome)
    if check and not result.ok:
        raise RuntimeError(f"dbt {' '.join(args)} exited with {result.returncode}:\n{output[-6000:]}")
    return result


def start_dbt_process(
    *args: str, database_name: str | None = None, target_path: Path | None = None, **popen: Any
) -> subprocess.Popen:
    """dbt as a separate process, for a caller that must be able to kill it (e.g. a build killed half-way)."""
    executable = Path(sys.executable).with_name("dbt")
    return subprocess.Popen(
        [str(executable), *dbt_arguments(args, None, target_path)],
        cwd=database.PROJECT_ROOT,
        env={**os.environ, **dbt_variables(database_name)},
        **popen,
    )
