"""Every model, seed and source is described, every column the database holds is documented, every model tested,
every macro argument described, and dbt-score gives every item 9 or more. A Backstage (source) column is
documented where staging reads it, or said to be secret or ignored.

Read from what dbt itself produces (`dbt docs generate`: manifest.json and catalog.json) on a migrated database,
so a column added to a model without a description, or a model without a test, fails here.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import urllib.request
from pathlib import Path

import jinja2
import pytest
from dbt_common.clients.jinja import get_environment
from dbt_score.config import Config
from dbt_score.lint import lint_dbt_project

from cogito_migrate import cli, database, discovery, vocabulary
from cogito_migrate import docs as docs_site

pytestmark = pytest.mark.slow
DOCUMENTED = {"model", "seed", "source", "analysis"}
# Items below dbt-score's bar inside code another change is rewriting (issue 9), with the rule that fails. The test
# fails when one of them passes again, so the entry goes once it is fixed.
UNDESCRIBED_MACRO = "dbt_score.rules.macros.macro_has_description"
KNOWN_BELOW_SCORE: dict[str, set[str]] = {}


@pytest.fixture(scope="module")
def site(migrated_template, dbt_target) -> Path:
    """The site `cogito-migrate docs` writes, in the migration's target folder (its parse is reused)."""
    name = migrated_template(0.02, 31).name
    target = dbt_target(name)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main(["docs", "--database", name, "--target-path", str(target)]) == 0
    assert f"docs: {target / 'index.html'}" in printed.getvalue()
    return target


@pytest.fixture(scope="module")
def docs(site) -> tuple[dict, dict]:
    return (json.loads((site / "manifest.json").read_text()), json.loads((site / "catalog.json").read_text()))


def _documented_nodes(manifest: dict) -> dict[str, dict]:
    nodes = {**manifest["nodes"], **manifest["sources"]}
    return {uid: node for uid, node in nodes.items() if node["resource_type"] in DOCUMENTED}


def test_every_model_seed_source_and_analysis_is_described(docs):
    manifest, _ = docs
    undescribed = [uid for uid, node in _documented_nodes(manifest).items() if not node["description"].strip()]
    assert not undescribed


def _read_or_said_ignored(source: dict, column: str, specs: dict[str, dict[str, str]]) -> bool:
    """A Backstage column is documented where it is read: its table's column spec names it for staging, whose
    models document it. The generated sources describe only what needs saying (the secrets); a column the spec
    does not name is listed as ignored in the table's drift meta, and a table without a spec says it is not read."""
    spec = specs.get(source["name"])
    ignored = source["config"]["meta"].get("drift", {}).get("ignored_columns", [])
    return spec is None or column in spec or column in ignored


def test_every_column_in_the_database_is_documented(docs):
    manifest, catalog = docs
    specs = vocabulary.load().column_specs
    undocumented = []
    for uid, node in _documented_nodes(manifest).items():
        built = catalog["nodes"].get(uid) or catalog["sources"].get(uid)
        for column in (built or {}).get("columns", {}):
            entry = node["columns"].get(column) or node["columns"].get(column.lower())
            if entry and entry["description"].strip():
                continue
            if node["resource_type"] == "source" and _read_or_said_ignored(node, column, specs):
                continue
            undocumented.append(f"{uid}.{column}")
    assert len(catalog["nodes"]) > 50 and len(catalog["sources"]) > 50
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


def test_every_macro_argument_is_described(docs):
    """Each argument of each macro's (and generic test's) Jinja signature has a description in a macros.yml, and
    nothing else is documented. dbt-score checks only the arguments a YAML lists."""
    manifest, _ = docs
    environment = get_environment()  # dbt's Jinja: knows `{% test %}` and `{% do %}`
    wrong = []
    for uid, macro in manifest["macros"].items():
        if macro["package_name"] != manifest["metadata"]["project_name"]:
            continue
        if UNDESCRIBED_MACRO in KNOWN_BELOW_SCORE.get(uid, set()):
            continue  # not described at all yet: the dbt-score test below keeps it listed
        (definition,) = environment.parse(macro["macro_sql"]).find_all(jinja2.nodes.Macro)
        signature = [argument.name for argument in definition.args]
        described = {argument["name"]: argument.get("description", "").strip() for argument in macro["arguments"]}
        if [name for name in signature if not described.get(name)] or set(described) - set(signature):
            wrong.append(f"{uid}: signature {signature}, described {sorted(n for n, d in described.items() if d)}")
    assert not wrong


def test_dbt_score_is_9_or_more_for_every_item(docs, tmp_path, monkeypatch):
    """dbt-score, configured in pyproject.toml (rules, thresholds, the project's rules in dbt_score_rules/), on the
    manifest of the migrated database: `make score` without a second parse."""
    manifest, _ = docs
    manifest_path = tmp_path / "manifest.json"
    manifest_path.write_text(json.dumps(manifest))
    monkeypatch.chdir(database.PROJECT_ROOT)  # dbt-score reads pyproject.toml and dbt_score_rules/ from here
    config = Config()
    config.load()
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = lint_dbt_project(manifest_path, config, format="json")

    below = {}
    for item, score in evaluation.scores.items():
        if score.value < config.fail_any_item_under:
            failed = {rule.source() for rule, result in evaluation.results[item].items() if result is not None}
            below[item.unique_id] = failed
    assert len(evaluation.scores) > 100
    assert {uid: rules for uid, rules in below.items() if KNOWN_BELOW_SCORE.get(uid) != rules} == {}
    assert sorted(set(KNOWN_BELOW_SCORE) - set(below)) == [], "fixed: remove from KNOWN_BELOW_SCORE"
    assert evaluation.project_score.value >= config.fail_project_under


def test_lineage_runs_from_every_tenant_schema_to_the_turns(docs):
    manifest, _ = docs
    upstream, queue = set(), ["model.cogito_migration.turns"]
    while queue:
        for parent in manifest["parent_map"].get(queue.pop(), []):
            if parent not in upstream:
                upstream.add(parent)
                queue.append(parent)
    source_schemas = {manifest["sources"][uid]["schema"] for uid in upstream if uid.startswith("source.")}
    client_map = discovery.read_client_map(database.PROJECT_ROOT / discovery.CLIENT_MAP_FILE)
    tenants = {client.schema for client in client_map.values() if client.migrate}
    assert tenants and tenants <= source_schemas


def test_exposures_say_who_reads_the_marts(docs):
    manifest, _ = docs
    exposures = {exposure["name"]: exposure for exposure in manifest["exposures"].values()}
    assert {"cogito_application_topic_query", "cogito_lens_readers", "blocks_that_stand_out"} <= set(exposures)
    for exposure in exposures.values():
        assert exposure["description"].strip() and exposure["owner"]["name"]
        assert exposure["depends_on"]["nodes"] and all(node in manifest["nodes"] for node in exposure["depends_on"]["nodes"])
    assert "model.cogito_migration.turns" in exposures["cogito_application_topic_query"]["depends_on"]["nodes"]


def test_the_site_is_served_on_localhost_and_opens_offline(site):
    assert "<html" in (site / "static_index.html").read_text()[:2000].lower()  # one file, no server needed
    server = docs_site.server(site, port=0)
    assert server.server_address[0] == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        with urllib.request.urlopen(base, timeout=10) as page:
            assert page.status == 200 and "dbt" in page.read().decode().lower()
        with urllib.request.urlopen(base + "manifest.json", timeout=10) as manifest:
            assert "model.cogito_migration.turns" in json.load(manifest)["nodes"]
    finally:
        server.shutdown()
        server.server_close()
