"""Every model, seed and source is described, every column the database holds is documented, every model tested,
every macro argument described, and dbt-score gives every item 9 or more. A Backstage (source) column is
documented where staging reads it, or said to be secret or ignored.

Read from what dbt itself produces (`dbt docs generate`: manifest.json and catalog.json) on a migrated database,
so a column added to a model without a description, or a model without a test, fails here. The site is built and
served by `cogito-migrate docs --serve`, and a headless browser uses it as a reader would.
"""

from __future__ import annotations

import contextlib
import io
import json
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
from dbt_common.clients.jinja import get_environment
from dbt_score.config import Config
from dbt_score.lint import lint_dbt_project

from cogito_migrate import database, discovery, vocabulary

pytestmark = pytest.mark.slow
DOCUMENTED = {"model", "seed", "source", "analysis"}
# Items below dbt-score's bar inside code another change is rewriting (issue 9), with the rule that fails. The test
# fails when one of them passes again, so the entry goes once it is fixed.
UNDESCRIBED_MACRO = "dbt_score.rules.macros.macro_has_description"
KNOWN_BELOW_SCORE: dict[str, set[str]] = {}


# the tenant turn tables of the two layouts (discovery's marker tables)
TURN_TABLES = {table for table in discovery.TOPIC_MARKERS | discovery.LEGACY_MARKERS if table.endswith("_turns")}
STARTUP_SECONDS = 300  # `dbt docs generate` on the small template takes about 20 s on 2 busy cores


@dataclass(frozen=True)
class Site:
    folder: Path  # what `dbt docs generate --static` wrote
    url: str  # where the command serves it


@pytest.fixture(scope="module")
def served(migrated_template, dbt_target) -> Iterator[Site]:
    """`cogito-migrate docs --serve --port 0` as an operator runs it, in a process of its own: the site it writes
    in the migration's target folder (its parse is reused), served until this module's tests are done."""
    name = migrated_template(0.02, 31).name
    target = dbt_target(name)
    command = [str(Path(sys.executable).with_name("cogito-migrate")), "docs", "--serve", "--port", "0",
               "--database", name, "--target-path", str(target)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)  # the command ended

    threading.Thread(target=read, daemon=True).start()
    printed: list[str] = []
    try:
        while not (printed and printed[-1].startswith("docs: serving ")):
            try:
                line = lines.get(timeout=STARTUP_SECONDS)
            except queue.Empty:
                pytest.fail(f"cogito-migrate docs --serve printed no address in {STARTUP_SECONDS} s: {printed}")
            assert line is not None, f"cogito-migrate docs --serve ended (exit {process.wait()}): {printed}"
            printed.append(line)
        assert f"docs: {target / 'index.html'} (one offline file: {target / 'static_index.html'})" in printed
        url = re.fullmatch(r"docs: serving (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)", printed[-1])
        assert url, printed[-1]  # on localhost only: the catalog describes every table of the database
        yield Site(target, url.group(1))
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def site(served) -> Path:
    return served.folder


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


def test_the_site_is_served_on_localhost_and_opens_offline(served):
    assert "<html" in (served.folder / "static_index.html").read_text()[:2000].lower()  # one file, no server needed
    with urllib.request.urlopen(served.url, timeout=10) as page:
        assert page.status == 200 and "dbt" in page.read().decode().lower()
    with urllib.request.urlopen(served.url + "manifest.json", timeout=10) as manifest:
        assert "model.cogito_migration.turns" in json.load(manifest)["nodes"]


# The lineage graph is drawn by cytoscape on a canvas: what it draws is read from its instance on the container.
DRAWN_NODES_JS = "() => document.querySelector('#cy')._cyreg.cy.nodes(':visible').length"
DRAWN_SOURCES_JS = """() => {
    const cy = document.querySelector('#cy')._cyreg.cy;
    const turns = cy.getElementById('model.cogito_migration.turns');
    return cy.nodes('[resource_type = "source"]:visible').map(node => {
        const box = node.renderedBoundingBox();
        return {schema: node.data('schema'), table: node.data('name'), label: node.data('label'),
                width: box.w, height: box.h, feeds_turns: node.successors().contains(turns)};
    });
}"""


def _draw_lineage(page, selection: str) -> list[dict]:
    """Type a selection into the full-screen lineage view, update the graph, and return the sources it draws."""
    before = page.evaluate(DRAWN_NODES_JS)
    page.fill("input[ng-model='selectorService.selection.dirty.include']", selection)
    page.click("#submit-graph-selection")
    page.wait_for_function(f"() => ({DRAWN_NODES_JS})() != {before}")
    return page.evaluate(DRAWN_SOURCES_JS)


def test_in_a_browser_turns_is_found_and_its_lineage_starts_at_every_tenant(served, browser, tmp_path):
    """Search `turns`, open conversation.turns, open its lineage: each migrated tenant's turn table is drawn as a
    source with a path to it, two steps upstream (through staging) and among all its ancestors (`+turns`), and no
    schema that is not migrated is."""
    from playwright.sync_api import expect

    client_map = discovery.read_client_map(database.PROJECT_ROOT / discovery.CLIENT_MAP_FILE)
    tenants = {client.schema for client in client_map.values() if client.migrate}
    not_migrated = {client.schema for client in client_map.values() if not client.migrate}

    def check(drawn: list[dict]) -> None:
        turn_sources = {node["schema"]: node for node in drawn if node["table"] in TURN_TABLES}
        assert tenants and set(turn_sources) == tenants
        for schema, node in turn_sources.items():
            assert node["label"] == f"backstage_{schema}.{node['table']}" and node["feeds_turns"]
            assert node["width"] > 0 and node["height"] > 0
        assert not {node["schema"] for node in drawn} & not_migrated

    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(served.url)
    page.fill("#search", "turns")
    result = page.locator(".search-result").filter(has=page.locator("h4 > span", has_text=re.compile(r"^turns$")))
    expect(result).to_have_count(1)
    result.click()
    page.wait_for_url("**/#!/model/model.cogito_migration.turns")
    expect(page.get_by_text(re.compile(r"\.conversation\.turns$"))).to_be_visible()  # the relation
    depends_on = page.locator("section", has=page.locator("#depends_on"))  # the page's "Depends On"
    for staging in ("stg_backstage__topic_turns", "stg_backstage__legacy_turns"):
        expect(depends_on.get_by_role("link", name=staging, exact=True)).to_be_visible()
    screenshots = [tmp_path / "docs-turns-model.png", tmp_path / "docs-turns-lineage.png",
                   tmp_path / "docs-turns-lineage-all.png"]
    page.screenshot(path=screenshots[0])

    page.click(".launcher-btn a")  # the lineage button, bottom right: the model's neighbours
    page.click("a[ng-click='showExpanded()']")  # full screen, with the selector
    check(_draw_lineage(page, "2+turns"))  # readable: the tenants' turn tables, staging, turns and its other parents
    page.screenshot(path=screenshots[1])
    check(_draw_lineage(page, "+turns"))  # every ancestor
    page.screenshot(path=screenshots[2])
    print("screenshots:", *screenshots)
