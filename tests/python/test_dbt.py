"""dbt in this process (cogito_migrate.dbt): each command reaches the database it names, a failure is reported and
leaves nothing behind for the next command, and os.environ ends as it began; the memory the vector index's first
build may take.

A tiny project of its own (a seed, a model that records current_database(), a test that always fails), so these
tests see dbt's programmatic use alone, not models in progress.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cogito_migrate import database
from cogito_migrate.dbt import (
    INDEX_MEMORY_VARIABLE,
    PARTIAL_PARSE_FILE,
    DbtResult,
    run_dbt,
    vector_index_build_memory,
)

SEED_ROWS = 3
PROJECT_FILES = {
    "dbt_project.yml": "name: cogito_dbt_check\nversion: '1.0'\nconfig-version: 2\nprofile: cogito\n",
    "seeds/numbers.csv": "n\n" + "".join(f"{n}\n" for n in range(SEED_ROWS)),
    "models/which_database.sql": (
        "{{ config(materialized='table') }}\n"
        "select current_database()::text as database_name, count(*) as seeded from {{ ref('numbers') }}\n"
    ),
    "tests/always_fails.sql": "select 1 as failure",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dbt_check_project")
    for relative, text in PROJECT_FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


@pytest.fixture(scope="module")
def databases(make_database) -> tuple[str, str]:
    return make_database("dbt_first"), make_database("dbt_second")


def build(project: Path, name: str, target: Path, *args: str) -> DbtResult:
    return run_dbt("build", "--exclude", "always_fails", *args, database_name=name, project_dir=project,
                   target_path=target, capture=True)


def recorded(name: str) -> list[tuple]:
    """What the model wrote in this database (None when it was never built there)."""
    with database.connect(name) as conn:
        if conn.execute("select to_regclass('migration.which_database')").fetchone()[0] is None:
            return []
        return conn.execute("select database_name, seeded from migration.which_database").fetchall()


def test_consecutive_runs_reach_the_database_each_names(project, databases, tmp_path):
    first, second = databases
    # One target folder for both: the saved parse of one database must not lead the next command to it.
    result = build(project, first, tmp_path)
    assert result.ok, result.stdout[-3000:]
    assert recorded(first) == [(first, SEED_ROWS)] and recorded(second) == []
    assert build(project, second, tmp_path).ok
    assert build(project, first, tmp_path, "--full-refresh").ok
    assert recorded(first) == [(first, SEED_ROWS)] and recorded(second) == [(second, SEED_ROWS)]
    assert result.result is not None and {r.node.name for r in result.result.result} == {"numbers", "which_database"}


def test_failures_give_the_executables_exit_codes_and_do_not_poison_the_next_run(project, databases, tmp_path):
    first, second = databases
    failed_test = run_dbt("test", "--select", "always_fails", database_name=first, project_dir=project,
                          target_path=tmp_path, capture=True)
    assert failed_test.returncode == 1 and "FAIL 1 always_fails" in failed_test.stdout
    broken = run_dbt("compile", "--inline", "select {{ oops( }}", database_name=second, project_dir=project,
                     target_path=tmp_path, capture=True)
    assert broken.returncode == 2 and "Encountered an error" in broken.stdout
    unknown = run_dbt("build", "--no-such-option", database_name=second, project_dir=project, capture=True)
    assert unknown.returncode == 2 and "no-such-option" in unknown.stdout
    after = build(project, second, tmp_path)
    assert after.ok and "Done. PASS=2" in after.stdout
    assert recorded(second) == [(second, SEED_ROWS)]


def test_os_environ_is_restored(project, databases, tmp_path, monkeypatch):
    monkeypatch.setenv("PGDATABASE", "not_the_one_dbt_uses")
    before = dict(os.environ)
    assert build(project, databases[0], tmp_path).ok
    assert dict(os.environ) == before


def test_a_second_run_on_one_database_reuses_the_saved_parse(project, databases, tmp_path):
    build(project, databases[0], tmp_path)
    assert (tmp_path / PARTIAL_PARSE_FILE).exists()
    second = run_dbt("--debug", "compile", database_name=databases[0], project_dir=project, target_path=tmp_path,
                     capture=True)
    assert second.ok and "Unable to do partial parsing" not in second.stdout
    assert "Partial parsing enabled" in second.stdout


def test_the_vector_index_may_take_the_operators_memory_else_a_share_of_this_machines_else_the_projects(
        monkeypatch):
    monkeypatch.setenv(INDEX_MEMORY_VARIABLE, "3GB")
    assert vector_index_build_memory() == "3GB"
    monkeypatch.delenv(INDEX_MEMORY_VARIABLE)
    for name in database.EXTERNAL_SERVER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    machine_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    assert vector_index_build_memory() == f"{machine_mb // 3}MB"  # the embedded server runs on this machine
    monkeypatch.setenv("PGHOST", "db.example")  # another server: its memory is not known here
    assert vector_index_build_memory() == "2GB"  # dbt_project.yml's default
