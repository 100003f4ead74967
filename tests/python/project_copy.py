"""The whole project copied to a temporary folder, and `cogito-migrate` run there: for tests whose Backstage needs
generated sources or a client map of its own (the committed ones are never touched)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cogito_migrate import database

SKIP_ON_COPY = shutil.ignore_patterns(".git", ".venv", ".pgdata", "target", "logs", "__pycache__", "*.pyc",
                                      ".pytest_cache", "dbt_packages")


def copy_project(target: Path) -> Path:
    shutil.copytree(database.PROJECT_ROOT, target, ignore=SKIP_ON_COPY, dirs_exist_ok=True)
    return target


def cogito_migrate(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`cogito-migrate <args>` with the copy's package and project (`python -m cogito_migrate.cli` with the copy's
    `scripts/` first on the path), against the shared server (starting none)."""
    env = {**os.environ, **database.server_address().environment(), "PYTHONPATH": str(project / "scripts")}
    return subprocess.run([sys.executable, "-m", "cogito_migrate.cli", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900)
