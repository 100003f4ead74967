"""sqlfluff (dbt templater) lints every model, analysis and data test clean.

The templater compiles the project, and the staging unions read the catalogue while compiling, so it runs
against a small simulated Backstage.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from psycopg import sql

from backstage_simulator import simulate
from cogito_migrate import database

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def simulated(server):
    name = "test_lint_backstage"
    simulate(name, 0.02, 3)
    yield name
    with database.connect("postgres") as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def test_sqlfluff_lints_the_project_clean(simulated, tmp_path):
    env = {
        **os.environ,
        **database.server_address().environment(simulated),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    result = subprocess.run(
        [str(sqlfluff), "lint", "--processes", "2", "--disable-progress-bar", "models", "analyses", "tests"],
        cwd=database.PROJECT_ROOT, env=env, capture_output=True, text=True,
    )
    violations = [line for line in result.stdout.splitlines() if line.startswith(("==", "L:"))]
    assert result.returncode == 0, "\n".join(violations) or result.stdout[-3000:] + result.stderr[-3000:]
    assert "All Finished" in result.stdout
