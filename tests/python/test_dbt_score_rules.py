"""The project's own dbt-score rule (dbt_score_rules/): a table's primary key is unique by an enforced contract, or
tested unique in our vocabulary."""

from __future__ import annotations

from typing import Any

import pytest
from dbt_score import Model, RuleViolation

from dbt_score_rules.primary_keys import primary_key_has_uniqueness_test


def table(columns: dict[str, list[str]], key: list[str], tests: list[dict[str, Any]], enforced: bool = False) -> Model:
    """A mart as dbt-score sees it: columns (name -> column-level constraint types), a model-level primary key when
    `key` has more than one column, and test nodes (a `column_name` kwarg attaches one to its column)."""
    compound_key = [{"type": "primary_key", "name": None, "expression": None, "columns": key}]
    node = {
        "unique_id": "model.p.t", "name": "t", "description": "", "original_file_path": "t.sql",
        "config": {"materialized": "incremental", "contract": {"enforced": enforced}}, "meta": {}, "package_name": "p", "database": "d",
        "schema": "s", "raw_code": "", "language": "sql", "access": "protected", "alias": "t", "tags": [],
        "depends_on": {},
        "constraints": compound_key if len(key) > 1 else [],
        "columns": {
            name: {
                "name": name, "description": "", "meta": {}, "tags": [],
                "constraints": [{"type": kind, "name": None, "expression": None} for kind in kinds],
            }
            for name, kinds in columns.items()
        },
    }
    test_nodes = [
        {"name": test["name"], "test_metadata": {"name": test["name"], "kwargs": test.get("kwargs", {})},
         "config": test.get("config", {}), "tags": []}
        for test in tests
    ]
    return Model.from_node(node, test_nodes)


def unique(column: str, **config: Any) -> dict[str, Any]:
    return {"name": "unique", "kwargs": {"column_name": column}, "config": config}


def columns_valid(*keys: str | list[str], **config: Any) -> dict[str, Any]:
    """`columns_valid` with these keys as its `unique` argument."""
    return {"name": "columns_valid", "kwargs": {"unique": list(keys)}, "config": config}


def columns_valid_key(key: list[str] | list[list[str]], **config: Any) -> dict[str, Any]:
    """`columns_valid` with its `key` argument (a not-null, unique compound key, or several) and a `not_null` one."""
    return {"name": "columns_valid", "kwargs": {"key": key, "not_null": ["sequence_order"]}, "config": config}


COMPOUND = {"block_id": ["not_null"], "turn_id": ["not_null"], "sequence_order": []}


def test_an_enforced_contract_s_primary_key_needs_no_test():
    # the database refuses a duplicate key at the insert
    assert primary_key_has_uniqueness_test().evaluate(table({"id": ["primary_key"]}, ["id"], [], enforced=True)) is None
    assert primary_key_has_uniqueness_test().evaluate(table(COMPOUND, ["block_id", "turn_id"], [], enforced=True)) is None


@pytest.mark.parametrize(
    ("columns", "key", "tests", "passes"),
    [
        ({"id": ["primary_key"]}, ["id"], [unique("id")], True),
        ({"id": ["primary_key"]}, ["id"], [], False),
        ({"id": ["primary_key"]}, ["id"], [unique("id", where="id is not null")], False),
        (COMPOUND, ["block_id", "turn_id"], [unique("turn_id")], True),  # a unique part makes the key unique
        ({"id": ["primary_key"]}, ["id"], [columns_valid("id")], True),
        ({"id": ["primary_key"]}, ["id"], [columns_valid("id", where="id is not null")], False),
        (COMPOUND, ["block_id", "turn_id"], [columns_valid(["turn_id", "block_id"])], True),
        (COMPOUND, ["block_id", "turn_id"], [columns_valid("sequence_order", ["turn_id", "block_id"])], True),
        (COMPOUND, ["block_id", "turn_id"], [columns_valid("turn_id")], True),  # a unique part, as a column key
        (COMPOUND, ["block_id", "turn_id"], [columns_valid(["block_id", "sequence_order"])], False),
        (COMPOUND, ["block_id", "turn_id"], [columns_valid(["block_id", "turn_id"], where="turn_id > 0")], False),
        (COMPOUND, ["block_id", "turn_id"], [columns_valid_key(["turn_id", "block_id"])], True),
        (COMPOUND, ["block_id", "turn_id"], [columns_valid_key([["sequence_order"], ["block_id", "turn_id"]])], True),
        (COMPOUND, ["block_id", "turn_id"], [columns_valid_key(["block_id", "sequence_order"])], False),
        (COMPOUND, ["block_id", "turn_id"], [columns_valid_key(["block_id", "turn_id"], where="turn_id > 0")], False),
        ({"id": ["primary_key"]}, ["id"], [{"name": "columns_valid", "kwargs": {"not_null": ["id"]}}], False),
        (COMPOUND, ["block_id", "turn_id"], [unique("sequence_order")], False),
        ({"id": []}, [], [], True),  # no key, nothing to test
    ],
)
def test_primary_key_has_uniqueness_test(columns, key, tests, passes):
    result = primary_key_has_uniqueness_test().evaluate(table(columns, key, tests))
    assert (result is None) is passes
    assert result is None or isinstance(result, RuleViolation)
