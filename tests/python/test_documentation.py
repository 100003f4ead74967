"""Every model, seed and source is described, every column the database holds is documented, every model tested.

Read from what dbt itself produces (`dbt docs generate`: manifest.json and catalog.json) on a migrated database,
so a column added to a model without a description, or a model without a test, fails here.
"""

from __future__ import annotations

import json

import pytest

from scripts.simulator import simulate

pytestmark = pytest.mark.slow
DOCUMENTED = {"model", "seed", "source", "analysis"}


@pytest.fixture(scope="module")
def docs(make_database, migrate, dbt, dbt_target) -> tuple[dict, dict]:
    name = make_database("docs")
    simulate(name, scale=0.02, seed=9)
    migrate(name)
    dbt("docs", "generate", database_name=name)  # in the migration's target folder: its parse is reused
    target = dbt_target(name)
    return (json.loads((target / "manifest.json").read_text()), json.loads((target / "catalog.json").read_text()))


def _documented_nodes(manifest: dict) -> dict[str, dict]:
    nodes = {**manifest["nodes"], **manifest["sources"]}
    return {uid: node for uid, node in nodes.items() if node["resource_type"] in DOCUMENTED}


def test_every_model_seed_source_and_analysis_is_described(docs):
    manifest, _ = docs
    undescribed = [uid for uid, node in _documented_nodes(manifest).items() if not node["description"].strip()]
    assert not undescribed


def test_every_column_in_the_database_is_documented(docs):
    manifest, catalog = docs
    undocumented = []
    for uid, node in _documented_nodes(manifest).items():
        built = catalog["nodes"].get(uid) or catalog["sources"].get(uid)
        for column in (built or {}).get("columns", {}):
            entry = node["columns"].get(column) or node["columns"].get(column.lower())
            if not entry or not entry["description"].strip():
                undocumented.append(f"{uid}.{column}")
    assert len(catalog["nodes"]) > 50
    assert not undocumented


def test_every_model_has_a_test(docs):
    manifest, _ = docs
    tested = set()
    for node in [*manifest["nodes"].values(), *manifest.get("unit_tests", {}).values()]:
        if node["resource_type"] in {"test", "unit_test"}:
            tested.update(node["depends_on"]["nodes"])
    models = [uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"]
    assert len(models) > 50
    assert sorted(uid for uid in models if uid not in tested) == []
