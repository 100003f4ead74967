"""The marts' heavy data tests check the rows written since the earliest build that has not passed
(macros/marts/rows_written_by_this_build.sql): a build that fails a test leaves its rows to be tested again by the
next build, even one that writes nothing; a build that passes moves the starting point past itself.

A tiny project of its own (the project's marker macros, an incremental model that inserts new ids only, a test
that checks the rows written since the marker), so each step is one quick dbt build.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cogito_migrate import database
from cogito_migrate.dbt import run_dbt

MARKER_MACROS = database.PROJECT_ROOT / "macros" / "marts" / "rows_written_by_this_build.sql"
PROJECT_FILES = {
    "dbt_project.yml": (
        "name: cogito_marker_check\nversion: '1.0'\nconfig-version: 2\nprofile: cogito\n"
        "on-run-start: ['{{ mark_build_start() }}']\non-run-end: ['{{ mark_build_passed(results) }}']\n"
    ),
    "models/kept.sql": (
        "{{ config(materialized='incremental', unique_key='id') }}\n"
        "select id, v from {{ ref('numbers') }}\n"
        "{% if is_incremental() %}where id not in (select id from {{ this }}){% endif %}\n"
    ),
    "tests/no_negative_value.sql": (
        "select * from {{ ref('kept') }} as kept where kept.v < 0 and {{ written_by_this_build('kept') }}\n"
    ),
}


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    for relative, text in PROJECT_FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    (root / "macros").mkdir()
    shutil.copy(MARKER_MACROS, root / "macros")
    return root


def build(project: Path, name: str, numbers: dict[int, int]) -> str:
    """The seed holds `numbers` (id -> value); `dbt build`: the status of the test, 'pass' or 'fail'."""
    (project / "seeds").mkdir(exist_ok=True)
    (project / "seeds" / "numbers.csv").write_text("id,v\n" + "".join(f"{i},{v}\n" for i, v in numbers.items()))
    result = run_dbt("build", database_name=name, project_dir=project, target_path=project / "target", capture=True)
    assert result.result.result is not None, result.stdout[-3000:]
    (status,) = [str(r.status) for r in result.result.result.results if r.node.name == "no_negative_value"]
    return status


def test_a_failed_build_s_rows_are_tested_until_a_build_passes(project, make_database, connect):
    name = make_database("build_marker")
    assert build(project, name, {1: 1}) == "pass"
    assert build(project, name, {1: 1, 2: -1}) == "fail"  # row 2 written, and wrong
    # nothing new to write: the failed build's row is still tested (once, it passed on zero rows)
    assert build(project, name, {1: 1, 2: -1}) == "fail"
    with connect(name) as conn:
        assert conn.execute("select count(*), bool_or(passed) from migration.build_marker").fetchone() == (2, False)
        conn.execute("update migration.kept set v = 1 where id = 2")  # corrected where it is wrong
    assert build(project, name, {1: 1, 2: -1}) == "pass"
    with connect(name) as conn:
        assert conn.execute("select count(*), bool_and(passed) from migration.build_marker").fetchone() == (1, True)
        # written before the next build begins, after one that passed: not this build's to test
        conn.execute("insert into migration.kept values (3, -3)")
    assert build(project, name, {1: 1, 2: -1}) == "pass"
    assert build(project, name, {1: 1, 2: -1, 4: -4}) == "fail"  # a new wrong row is this build's
