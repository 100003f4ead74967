"""Which nodes a re-run builds (cogito_migrate.build_scope): on a small hand-made dbt graph, the nodes that read a
changed table and nothing else; everything when more than rows changed. A re-run that builds a scope over the
simulated source is in test_changes_between_runs.py and test_reruns.py (their runs after each change are scoped)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from cogito_migrate import build_scope, runner
from cogito_migrate.build_inputs import UNKNOWABLE, Fingerprint

PROJECT = "cogito_migration"


def node(kind: str, name: str, parents: tuple[str, ...] = (), schema: str = "migration_intermediate",
         materialized: str | None = None, macros: tuple[str, ...] = (), meta: dict[str, Any] | None = None) -> dict:
    return {
        "resource_type": kind, "name": name, "schema": schema, "alias": name,
        "config": {"materialized": materialized, "meta": meta or {}},
        "depends_on": {"nodes": list(parents), "macros": list(macros)},
    }


def macro(name: str, sql: str, calls: tuple[str, ...] = ()) -> tuple[str, dict]:
    return f"macro.{PROJECT}.{name}", {
        "name": name, "package_name": PROJECT, "macro_sql": sql, "depends_on": {"macros": list(calls)},
    }


# source turns -> stg view -> int table -> mart (reads users through migrated_rows); source events -> events mart;
# a test on the view, one on the int table; a model that looks relations up by itself.
SOURCES = {
    "source.cogito_migration.backstage.turns": {"resource_type": "source", "name": "turns", "schema": "dev", "identifier": "turns"},
    "source.cogito_migration.backstage.events": {"resource_type": "source", "name": "events", "schema": "dev",
                                  "identifier": "participant_events"},
}
NODES = {
    "model.cogito_migration.stg_turns": node("model", "stg_turns", ("source.cogito_migration.backstage.turns",), "backstage_staging", "view"),
    "model.cogito_migration.int_turns": node("model", "int_turns", ("model.cogito_migration.stg_turns",), materialized="table"),
    "model.cogito_migration.turns": node("model", "turns", ("model.cogito_migration.int_turns",), "conversation", "incremental",
                          (f"macro.{PROJECT}.migrated_rows",), {"reads_marts": ["users"]}),
    "model.cogito_migration.users": node("model", "users", (), "client_mgmt", "incremental"),
    "model.cogito_migration.events": node("model", "events", ("source.cogito_migration.backstage.events",), "events", "incremental"),
    "test.cogito_migration.columns_valid_stg_turns_id.1": node("test", "columns_valid_stg_turns_id", ("model.cogito_migration.stg_turns",)),
    "test.cogito_migration.columns_valid_int_turns_id.2": node("test", "columns_valid_int_turns_id", ("model.cogito_migration.int_turns",)),
    "model.cogito_migration.looks_around": node("model", "looks_around", (), materialized="table",
                                 macros=(f"macro.{PROJECT}.read_anything",)),
}
MACROS = dict([
    macro("migrated_rows", "{% set r = adapter.get_relation(database=d, schema=s, identifier=i) %}"),
    macro("read_anything", "{{ helper() }}", (f"macro.{PROJECT}.helper",)),
    macro("helper", "{% for n in graph.nodes.values() %}{% endfor %}"),
    macro("harmless", "select 1"),
])
MANIFEST = {"metadata": {"project_name": PROJECT}, "nodes": NODES, "sources": SOURCES, "macros": MACROS}
TABLES = {
    "dev.turns": "s1; 10 rows, versions 1", "dev.participant_events": "s2; 5 rows, versions 2",
    "backstage_staging.stg_turns": "s3; no rows", "migration_intermediate.int_turns": "s4; 10 rows, versions 3",
    "conversation.turns": "s5; 10 rows, versions 4", "client_mgmt.users": "s6; 2 rows, versions 5",
    "events.events": "s7; 5 rows, versions 6", "migration_intermediate.looks_around": "s8; 1 rows, versions 7",
    "bookkeeping.generations": "s9; 1 rows, versions 8",
}


def fingerprint(tables: dict[str, str], digest: str = "project") -> Fingerprint:
    return Fingerprint(digest, tables, {name: tuple(name.split(".")) for name in tables})


def changed(**states: str) -> Fingerprint:
    return fingerprint({**TABLES, **{name.replace("__", "."): state for name, state in states.items()}})


def names(scope: build_scope.Scope | None) -> set[str]:
    assert scope is not None
    return {unique_id.split(".")[2] for unique_id in scope.nodes}


VERIFIED = fingerprint(TABLES)


def test_a_changed_source_builds_what_reads_it_and_the_views_stay():
    scope = build_scope.scope(VERIFIED, changed(dev__turns="s1; 11 rows, versions 9"), MANIFEST)
    # the view is not rebuilt (it holds no rows) but its test reads the new row through it; the events branch and
    # the users mart read nothing that changed; the model that looks relations up by itself reads everything
    assert names(scope) == {"columns_valid_stg_turns_id", "int_turns", "columns_valid_int_turns_id", "turns",
                            "looks_around"}
    assert scope.changed_tables == ("dev.turns",)
    assert scope.skipped == len(NODES) - 5
    assert sorted(scope.selectors) == sorted(names(scope))


def test_a_mart_declared_in_reads_marts_is_an_input():
    scope = build_scope.scope(VERIFIED, changed(client_mgmt__users="s6; 3 rows, versions 9"), MANIFEST)
    assert names(scope) == {"users", "turns", "looks_around"}


def test_a_view_on_a_replaced_table_is_rebuilt():
    manifest = {**MANIFEST, "nodes": {**NODES, "model.cogito_migration.int_view": node(
        "model", "int_view", ("model.cogito_migration.int_turns",), materialized="view")}}
    scope = build_scope.scope(VERIFIED, changed(dev__turns="s1; 11 rows, versions 9"), manifest)
    assert "int_view" in names(scope)  # dbt drops the old int_turns with cascade, and the view with it


def test_a_view_compiled_from_what_a_mart_holds_is_rebuilt():
    manifest = {**MANIFEST, "nodes": {**NODES, "model.cogito_migration.int_logins": node(
        "model", "int_logins", ("model.cogito_migration.stg_turns",), materialized="view",
        macros=(f"macro.{PROJECT}.migrated_rows",), meta={"reads_marts": ["users"]})}}
    # migrated_rows compiled to an empty stand-in while the users mart did not exist yet
    for change in ({"dev__turns": "s1; 11 rows, versions 9"}, {"client_mgmt__users": "s6; 3 rows, versions 9"}):
        assert "int_logins" in names(build_scope.scope(VERIFIED, changed(**change), manifest))
    assert "int_logins" not in names(build_scope.scope(
        VERIFIED, changed(dev__participant_events="s2; 6 rows, versions 9"), manifest))


def test_nothing_reads_a_changed_table_outside_the_project():
    scope = build_scope.scope(VERIFIED, changed(bookkeeping__generations="s9; 2 rows, versions 9"), MANIFEST)
    assert names(scope) == {"looks_around"}


@pytest.mark.parametrize("current, why", [
    (changed(dev__turns="s1-altered; 10 rows, versions 1"), "a source's structure"),
    (changed(client_mgmt__users="s6-altered; 2 rows, versions 5"), "a mart's structure"),
    (fingerprint({**TABLES, "dev.topics": "s10; 0 rows, versions 0"}), "a new table in a project schema"),
    (fingerprint({k: v for k, v in TABLES.items() if k != "events.events"}), "a dropped table"),
    (fingerprint(TABLES, digest="another project"), "the project"),
    (changed(dev__turns=f"s1; {UNKNOWABLE}"), "a foreign table"),
])
def test_anything_but_rows_builds_everything(current, why):
    assert build_scope.scope(VERIFIED, current, MANIFEST) is None, why


def test_a_table_altered_or_added_outside_the_project_is_compared_by_rows_only():
    current = fingerprint({**TABLES, "bookkeeping.generations": "s9-altered; 1 rows, versions 8",
                           "bookkeeping.more": "s11; 0 rows, versions 0"})
    assert names(build_scope.scope(VERIFIED, current, MANIFEST)) == {"looks_around"}


def test_no_verified_build_builds_everything():
    assert build_scope.scope(None, VERIFIED, MANIFEST) is None


# -- a scoped re-run on the simulated source ------------------------------------------------------------------------
def run(name: str, target, always_build: bool = False) -> tuple[str, dict[str, Any]]:
    out = io.StringIO()
    options = runner.RunOptions(database_name=name, target_path=target, output=out, always_build=always_build)
    result = runner.run_migration(options)
    assert result.ok, out.getvalue()[-4000:]
    return out.getvalue(), json.loads((target / "run_results.json").read_text())


def test_a_re_run_after_one_edited_event_builds_its_scope_and_leaves_what_a_full_build_would(
        migrated_template, copy_database, connect, tmp_path):
    name = copy_database(migrated_template(0.02, 31).name, "scoped")
    with connect(name) as conn:
        event_id = conn.execute("select min(id) from dev.participant_events").fetchone()[0]
        conn.execute("update dev.participant_events set details = coalesce(details, '{}') || '{\"edited\": 1}' "
                     "where id = %s", (event_id,))
    output, results = run(name, tmp_path / "scoped")
    built = {result["unique_id"] for result in results["results"]}
    manifest = json.loads((tmp_path / "scoped" / "manifest.json").read_text())
    everything = {unique_id for unique_id, node in manifest["nodes"].items()
                  if node["resource_type"] in build_scope.BUILT_TYPES}
    staging_views = {unique_id for unique_id in everything if manifest["nodes"][unique_id]["schema"] == "backstage_staging"
                     and manifest["nodes"][unique_id]["resource_type"] == "model"}
    assert "nodes read one of the 1 changed tables" in output, output
    assert "model.cogito_migration.participant_events" in built
    # no view over the source is created again (views over a replaced intermediate table are: dbt drops them)
    assert staging_views and not built & staging_views
    assert len(built) < len(everything) - len(staging_views)
    with connect(name) as conn:
        details = conn.execute(
            "select details from events.participant_events where metadata->>'schema_name' = 'dev' "
            "and metadata->>'original_event_id' = %s", (str(event_id),)).fetchone()[0]
    assert details["edited"] == 1
    # the next scoped run finds the verified build's graph in its target folder: no dbt parse first
    (tmp_path / "scoped" / "cogito-migrate-parse.log").unlink()
    with connect(name) as conn:
        conn.execute("update dev.participant_events set details = details || '{\"edited\": 2}' where id = %s",
                     (event_id,))
    output, _ = run(name, tmp_path / "scoped")
    assert "nodes read one of the 1 changed tables" in output, output
    assert not (tmp_path / "scoped" / "cogito-migrate-parse.log").exists()
    # a build of every node over what the scoped builds left finds nothing to write, not even in the intermediate
    # tables kept with the sync strategy (their rows' xmin are the marts' change markers)
    synced = sorted(f"{node['schema']}.{node['alias']}" for node in manifest["nodes"].values()
                    if node["config"].get("incremental_strategy") == "sync")
    assert len(synced) >= 5

    def row_versions() -> dict[str, list[str]]:
        with connect(name) as conn:
            return {table: sorted(row[0] for row in conn.execute(f"select xmin::text from {table}"))
                    for table in synced}

    before = row_versions()
    output, _ = run(name, tmp_path / "full", always_build=True)
    assert "rows written: 0 (the target already matched the source)" in output, output[-2000:]
    assert row_versions() == before
