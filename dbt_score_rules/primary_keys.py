"""A table's primary key is proven unique: enforced by the database, or tested, in the project's vocabulary.

A model whose contract is enforced creates its primary key constraint with the table: PostgreSQL refuses a duplicate
at the insert, so a `unique` test would only scan the table again on every build (the marts). Otherwise a test
must cover the key. dbt-score's own `has_uniqueness_test` accepts a compound key only through dbt_utils'
`unique_combination_of_columns`, a package this project does not use: its uniqueness checks are `columns_valid`'s
(tests/generic) `unique` argument, whose keys are columns or lists of columns, and its `key` argument (a list of
columns, or several such lists). A key is also unique when a part of it is (block_turns: (block_id, turn_id), where
turn_id alone is unique).
"""

# No `from __future__ import annotations`: dbt-score reads the rule's argument annotation as a class.
from dbt_score import Model, RuleViolation, rule
from dbt_score.models import Test
from dbt_score.rules.filters import is_table


def tested_keys(test: Test) -> list[set[str]]:
    """The column sets a model-level test proves unique: each key of `columns_valid`'s `unique` (a column or a list)
    and its `key` (a list, or a list of lists), or dbt_utils' combination."""
    if test.type == "columns_valid":
        keys = test.kwargs.get("key") or []
        found = [set(key) for key in ([keys] if keys and isinstance(keys[0], str) else keys)]
        return found + [{key} if isinstance(key, str) else set(key) for key in test.kwargs.get("unique") or []]
    if test.type == "unique_combination_of_columns":
        return [set(test.kwargs.get("combination_of_columns") or [])]
    return []


def primary_key_columns(model: Model) -> list[str]:
    """The key: the column(s) with a column-level primary_key constraint, else a model-level primary_key's columns."""
    columns = [column.name for column in model.columns if any(c.type == "primary_key" for c in column.constraints)]
    if columns:
        return columns
    return next((c.columns or [] for c in model.constraints if c.type == "primary_key"), [])


def limited(test: Test) -> bool:
    """Whether a `where` (the test's own argument, or its config) limits the rows the test sees."""
    return bool(test.kwargs.get("where") or test._raw_values.get("config", {}).get("where"))


def unique_column_sets(model: Model) -> list[set[str]]:
    """Every set of columns a test proves unique over all rows (a test limited by a `where` proves nothing here)."""
    found = [
        {column.name}
        for column in model.columns
        for test in column.tests
        if test.type == "unique" and not limited(test)
    ]
    for test in model.tests:
        if not limited(test):
            found += tested_keys(test)
    return found


def contract_enforced(model: Model) -> bool:
    return bool((model.config.get("contract") or {}).get("enforced"))


@rule(rule_filters={is_table()})
def primary_key_has_uniqueness_test(model: Model) -> RuleViolation | None:
    """A table's primary key is unique by an enforced contract's constraint, or by a test: `unique` on a key column
    or a `columns_valid` `unique` or `key` key over key columns."""
    key = primary_key_columns(model)
    if not key or contract_enforced(model):
        return None
    if any(columns and columns <= set(key) for columns in unique_column_sets(model)):
        return None
    return RuleViolation(f"No uniqueness test covers primary key {', '.join(key)}.")
