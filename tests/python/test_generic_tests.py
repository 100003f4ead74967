"""The folded generic tests (tests/generic): `keys_unique` and `columns_accepted_values` pass on clean rows and fail
on broken ones, naming the key or column, the value and its row count.

A tiny dbt project of its own: the project's generic tests and macros, run on a table this module writes (a source),
so each case breaks exactly one thing and the failing rows are known in advance.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cogito_migrate import database
from cogito_migrate.dbt import run_dbt

pytestmark = pytest.mark.slow

SCHEMA = """\
version: 2
sources:
  - name: fixture
    schema: fixture
    tables:
      - name: accounts
        data_tests:
          - keys_unique:
              arguments:
                keys: [id, [client_id, "lower(email)"]]
          - keys_unique:
              arguments:
                keys: [email]
              config:
                where: "status = 'open'"
          - columns_accepted_values:
              arguments:
                values:
                  status: [open, resolved]
                  kind: [1, 2]
                  active: [true]
"""
CLEAN_ROWS = [
    # id, client_id, email, status, kind, active
    (1, 101, "a@x", "open", 1, True),
    (2, 101, "b@x", "resolved", 2, True),
    (3, 102, "a@x", None, None, None),  # same email in another client; NULLs are accepted values
    (None, 102, "c@x", "resolved", 1, True),  # a NULL id is no duplicate of another NULL id
    (None, 103, "d@x", "resolved", 1, True),
    (5, 103, "a@x", "resolved", 1, True),  # a@x is open once only: the where config scopes its key
]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generic_tests_project")
    (root / "dbt_project.yml").write_text(
        "name: generic_tests_check\nversion: '1.0'\nconfig-version: 2\nprofile: cogito\n")
    shutil.copytree(database.PROJECT_ROOT / "tests" / "generic", root / "tests" / "generic")
    shutil.copytree(database.PROJECT_ROOT / "macros", root / "macros")
    (root / "models").mkdir()
    (root / "models" / "_fixture.yml").write_text(SCHEMA)
    return root


@pytest.fixture
def accounts(make_database) -> str:
    name = make_database("generic_tests")
    with database.connect(name) as conn:
        conn.execute("create schema fixture")
        conn.execute("create table fixture.accounts (id integer, client_id integer, email text, status text, "
                     "kind integer, active boolean)")
        conn.cursor().executemany("insert into fixture.accounts values (%s, %s, %s, %s, %s, %s)", CLEAN_ROWS)
    return name


def failing_rows(project: Path, name: str, target: Path) -> dict[str, set[tuple]]:
    """`dbt test` on the fixture: each test's failing rows (its compiled query run again), by test and scope."""
    result = run_dbt("test", database_name=name, project_dir=project, target_path=target, capture=True)
    assert result.returncode in (0, 1), result.stdout[-4000:]
    failing: dict[str, set[tuple]] = {}
    with database.connect(name) as conn:
        for outcome in result.result.result.results:
            rows = set(conn.execute(outcome.node.compiled_code).fetchall())
            assert (str(outcome.status) == "pass") is (not rows), (outcome.node.name, outcome.status, rows)
            failing[outcome.node.test_metadata.name + (" where" if outcome.node.config.where else "")] = rows
    assert len(failing) == 3, failing
    return failing


def test_clean_rows_pass(project, accounts, tmp_path):
    assert failing_rows(project, accounts, tmp_path) == {
        "keys_unique": set(), "keys_unique where": set(), "columns_accepted_values": set()}


def test_a_duplicated_key_fails_naming_the_key_its_value_and_rows(project, accounts, tmp_path):
    with database.connect(accounts) as conn:
        conn.execute("insert into fixture.accounts values "
                     "(1, 104, 'e@x', 'resolved', 1, true), "  # id 1 twice
                     "(6, 101, 'A@X', 'resolved', 1, true), "  # client 101's a@x again, in another case
                     "(7, null, 'f@x', 'resolved', 1, true), "  # a NULL part of a list key: equal NULLs
                     "(8, null, 'F@x', 'resolved', 1, true), "
                     "(9, 105, 'b@x', 'open', 1, true), "  # b@x open twice (resolved rows are out of scope)
                     "(10, 105, 'b@x', 'open', 1, true)")
    failing = failing_rows(project, accounts, tmp_path)
    assert failing["keys_unique"] == {
        ("id", "1", 2),
        ("client_id, lower(email)", "(101,a@x)", 2),
        ("client_id, lower(email)", "(,f@x)", 2),
        ("client_id, lower(email)", "(105,b@x)", 2),
    }
    assert failing["keys_unique where"] == {("email", "b@x", 2)}
    assert failing["columns_accepted_values"] == set()


def test_an_unexpected_value_fails_naming_the_column_the_value_and_rows(project, accounts, tmp_path):
    with database.connect(accounts) as conn:
        conn.execute("insert into fixture.accounts values "
                     "(11, 101, 'g@x', 'lost', 3, true), "
                     "(12, 101, 'h@x', 'lost', 1, false)")
    failing = failing_rows(project, accounts, tmp_path)
    assert failing["columns_accepted_values"] == {("status", "lost", 2), ("kind", "3", 1), ("active", "false", 1)}
    assert failing["keys_unique"] == failing["keys_unique where"] == set()
