"""The generic test `columns_valid` (tests/generic; its checks in macros/data_tests): passes on clean rows and fails
on broken ones, each failing row naming its check and what the check names (the column or key, the value, its row
count, the client where the check gives it); a `where` config is a node of its own.

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
          - columns_valid:
              arguments:
                not_null: [client_id, email]
                key: [client_id, email]
                unique: [id, [client_id, "lower(email)"]]
                accepted_values:
                  status: [open, resolved]
                  kind: [1, 2]
                  active: [true]
          - columns_valid:
              arguments:
                unique: [email]
              config:
                where: "status = 'open'"
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


# What each check's failing row holds (its `failure` jsonb), in the order a reader names it.
FIELDS = {
    "not_null": ("client_id", "column_name", "null_rows"),
    "key": ("client_id", "email", "problem"),
    "unique": ("key_columns", "key_value", "duplicate_rows"),
    "accepted_values": ("column_name", "unexpected_value", "unexpected_rows"),
}


def failing_rows(project: Path, name: str, target: Path) -> dict[str, set[tuple]]:
    """`dbt test` on the fixture: each node's failing rows (its compiled query run again) as (check, *fields), by
    node: `columns_valid` and `columns_valid where`."""
    result = run_dbt("test", database_name=name, project_dir=project, target_path=target, capture=True)
    assert result.returncode in (0, 1), result.stdout[-4000:]
    failing: dict[str, set[tuple]] = {}
    with database.connect(name) as conn:
        for outcome in result.result.result.results:
            rows = conn.execute(outcome.node.compiled_code).fetchall()
            assert (str(outcome.status) == "pass") is (not rows), (outcome.node.name, outcome.status, rows)
            named = set()
            for check, client_id, failure in rows:
                assert set(failure) == set(FIELDS[check]), (check, failure)
                assert client_id == (None if failure.get("client_id") is None else str(failure["client_id"]))
                named.add((check, *(failure[field] for field in FIELDS[check])))
            failing[outcome.node.test_metadata.name + (" where" if outcome.node.config.where else "")] = named
    assert set(failing) == {"columns_valid", "columns_valid where"}, failing
    return failing


def test_clean_rows_pass(project, accounts, tmp_path):
    assert failing_rows(project, accounts, tmp_path) == {"columns_valid": set(), "columns_valid where": set()}


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
    assert failing["columns_valid"] == {
        ("unique", "id", "1", 2),
        ("unique", "client_id, lower(email)", "(101,a@x)", 2),
        ("unique", "client_id, lower(email)", "(,f@x)", 2),
        ("unique", "client_id, lower(email)", "(105,b@x)", 2),
        # the key: the same (105, b@x) twice, and its NULL parts (the NULL client's rows are no duplicate there)
        ("key", 105, "b@x", "duplicate"),
        ("key", None, "f@x", "null"),
        ("key", None, "F@x", "null"),
        ("not_null", None, "client_id", 2),
    }
    assert failing["columns_valid where"] == {("unique", "email", "b@x", 2)}


def test_an_unexpected_value_fails_naming_the_column_the_value_and_rows(project, accounts, tmp_path):
    with database.connect(accounts) as conn:
        conn.execute("insert into fixture.accounts values "
                     "(11, 101, 'g@x', 'lost', 3, true), "
                     "(12, 101, 'h@x', 'lost', 1, false)")
    failing = failing_rows(project, accounts, tmp_path)
    assert failing == {
        "columns_valid": {("accepted_values", "status", "lost", 2), ("accepted_values", "kind", "3", 1),
                          ("accepted_values", "active", "false", 1)},
        "columns_valid where": set(),
    }


def test_a_null_fails_naming_its_client_column_and_rows(project, accounts, tmp_path):
    """A NULL email breaks `not_null` (counted per client, client_id being among its columns), the key (each row
    with a NULL part, and client 104's two NULL emails as a duplicate) and the list key in `unique`, whose NULLs
    compare equal; the column key `id` stays unique."""
    with database.connect(accounts) as conn:
        conn.execute("insert into fixture.accounts values "
                     "(13, 104, null, 'resolved', 1, true), (14, 104, null, 'open', 2, true), "
                     "(15, 106, null, 'resolved', 1, true)")
    failing = failing_rows(project, accounts, tmp_path)
    assert failing == {
        "columns_valid": {("not_null", 104, "email", 2), ("not_null", 106, "email", 1),
                          ("key", 104, None, "null"), ("key", 104, None, "duplicate"), ("key", 106, None, "null"),
                          ("unique", "client_id, lower(email)", "(104,)", 2)},
        "columns_valid where": set(),
    }
