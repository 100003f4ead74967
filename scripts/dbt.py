"""Running dbt against the project's database, with credentials taken from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scripts import database

PROFILES_DIR = database.PROJECT_ROOT / "profiles"


def dbt_environment(database_name: str | None = None, target_path: Path | None = None) -> dict[str, str]:
    """The environment dbt runs in: PG* variables for the chosen database, the project's profiles."""
    address = database.server_address()
    env = {**os.environ, **address.environment(database_name)}
    env["DBT_PROFILES_DIR"] = str(PROFILES_DIR)
    env["DBT_PROJECT_DIR"] = str(database.PROJECT_ROOT)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    if target_path is not None:
        env["DBT_TARGET_PATH"] = str(target_path)
        env["DBT_LOG_PATH"] = str(Path(target_path) / "logs")
    return env


def run_dbt(
    *args: str,
    database_name: str | None = None,
    target_path: Path | None = None,
    capture: bool = False,
    check: bool = False,
) -> subprocess.CompletedProcess:
    """Run one dbt command (e.g. run_dbt("build", "--select", "staging")) and return the finished process."""
    executable = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(executable), *args],
        cwd=database.PROJECT_ROOT,
        env=dbt_environment(database_name, target_path),
        capture_output=capture,
        text=True,
        check=check,
    )
