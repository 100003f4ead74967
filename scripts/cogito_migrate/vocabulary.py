"""The migration's vocabulary: the `vars` of dbt_project.yml, the same data the models read with `var()`.

- `migration_entities`: entity -> the Cogito table its rows land in, its uuid column (default `id`) and the
  columns the reconciliation hashes; their order is the order of every report.
- `quarantine_reasons`: reason -> entity -> disposition (`held`, `migrated_with_fallback`, or a list of both).
- `backstage_column_specs`: Backstage table -> {column: type}, in the order staging gives the columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cogito_migrate import database

PROJECT_FILE = Path("dbt_project.yml")


@dataclass(frozen=True)
class Entity:
    name: str
    cogito_table: str  # schema.table
    id_column: str = "id"
    content_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vocabulary:
    entities: tuple[Entity, ...]
    quarantine_reasons: dict[str, dict[str, Any]]
    column_specs: dict[str, dict[str, str]]


def project_variables(project_dir: Path | None = None) -> dict[str, Any]:
    """The `vars` of the dbt project in `project_dir` (default: the project this package belongs to)."""
    path = (project_dir or database.PROJECT_ROOT) / PROJECT_FILE
    return yaml.safe_load(path.read_text(encoding="utf-8"))["vars"]


def load(project_dir: Path | None = None) -> Vocabulary:
    """The vocabulary of the dbt project in `project_dir` (default: the project this package belongs to)."""
    variables = project_variables(project_dir)
    entities = tuple(
        Entity(name, spec["cogito_table"], spec.get("id_column", "id"), tuple(spec.get("content_columns", ())))
        for name, spec in variables["migration_entities"].items()
    )
    return Vocabulary(entities, variables["quarantine_reasons"], variables["backstage_column_specs"])
