"""`cogito-migrate run` as the tests start it: in a process of its own (to be killed, or raced against), or in this
one (its result and audit row id at hand)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from cogito_migrate import runner


def start_run(database_name: str, target: Path, log: Path, *options: str) -> subprocess.Popen:
    """The run in a process of its own, dbt's target in `target` (one per database: its parse is reused), its
    output in `log`."""
    target.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        command = [sys.executable, "-m", "cogito_migrate.cli", "run", *options, "--database", database_name,
                   "--target-path", str(target)]
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def run_in_process(database_name: str, target: Path) -> tuple[runner.RunResult, str | None, str]:
    """The run in this process: its result, its audit row's id and what it printed."""
    out = io.StringIO()
    result, run_id = runner.run_and_record(runner.RunOptions(database_name=database_name, target_path=target,
                                                             output=out))
    return result, run_id, out.getvalue()
