"""`cogito-migrate plan`, the dry run: its counts are what a run then does, and it writes nothing.

One small simulated Backstage is planned before any run; the simulator is deterministic, so the migrated template of
the same scale and seed (shared with other tests) is what a run makes of it. A copy of that template is grown and
planned again, then migrated. Every plan is taken between two snapshots of the whole database (every relation,
schema, function and role, and a hash of every table's rows), which must be equal.
"""

from __future__ import annotations

import argparse
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from psycopg import sql

from backstage_simulator import grow, simulate
from cogito_migrate import database, plan, runner, verify

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 31  # the template test_audit, test_isolation and the property test share
GROW_SEED = 9
TURN_TABLES = ("grp_topic_avatar_turns", "grp_con_avatar_turns")


def snapshot(name: str) -> dict[str, object]:
    """Everything a plan could have written: relations (with each table's row hash), schemas, functions, roles."""
    with database.connect(name) as conn:
        relations = conn.execute(
            "select n.nspname, c.relname, c.relkind from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
            " where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'"
            " order by 1, 2").fetchall()
        hashes = {
            (schema, table): conn.execute(sql.SQL(
                "select count(*), md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) from {} as t"
            ).format(sql.Identifier(schema, table))).fetchone()
            for schema, table, kind in relations if kind in ("r", "p")
        }
        return {
            "relations": relations,
            "tables": hashes,
            "schemas": conn.execute("select nspname from pg_namespace order by 1").fetchall(),
            "functions": conn.execute(
                "select pronamespace::regnamespace::text, proname from pg_proc"
                " where pronamespace::regnamespace::text not in ('pg_catalog', 'information_schema') order by 1, 2"
            ).fetchall(),
            "roles": conn.execute("select rolname from pg_roles order by 1").fetchall(),
        }


def planned(name: str, target: Path) -> plan.Plan:
    """A plan, checked to have written nothing."""
    before = snapshot(name)
    result = plan.make_plan(name, target_path=target)
    after = snapshot(name)
    assert after["schemas"] == before["schemas"] and after["relations"] == before["relations"]
    assert after == before
    assert result.problem is None, result.problem
    return result


def reconciliation(name: str) -> dict[tuple[int | None, str], verify.ReconciliationRow]:
    with database.connect(name) as conn:
        return {(row.client_id, row.entity): row for row in verify.read_reconciliation(conn).rows}


@pytest.fixture(scope="module")
def fresh(make_database) -> str:
    """The template's Backstage before any run (same scale and seed)."""
    name = make_database("plan_fresh")
    simulate(name, scale=SCALE, seed=SEED)
    return name


@pytest.fixture(scope="module")
def fresh_target(tmp_path_factory) -> Path:
    """The dbt target folder of every plan of `fresh`: dbt parses the project once per database and folder."""
    return tmp_path_factory.mktemp("plan_fresh")


@pytest.fixture(scope="module")
def fresh_plan(fresh, fresh_target) -> plan.Plan:
    return planned(fresh, fresh_target)


def test_plan_before_the_first_run_is_what_the_run_migrates_and_quarantines(fresh, fresh_plan, migrated_template):
    template = migrated_template(SCALE, SEED)
    with database.connect(fresh) as conn:
        assert conn.execute("select to_regnamespace('conversation')").fetchone() == (None,), "no target yet"
    assert fresh_plan.would_proceed and not fresh_plan.stops
    assert {t.schema for t in fresh_plan.discovery.tenants} >= {"dev", "bsa", "template"}
    migrated = reconciliation(template.name)
    assert {(e.client_id, e.entity) for e in fresh_plan.entities} == set(migrated)
    for e in fresh_plan.entities:
        row = migrated[(e.client_id, e.entity)]
        assert (e.already_there, e.changed, e.unaccounted) == (0, 0, 0), "nothing is there before the first run"
        assert (e.source_rows, e.new, e.held, e.fallback) == (
            row.source_rows, row.migrated_rows, row.held_rows, row.fallback_rows), f"{e.client_id} {e.entity}"
    with database.connect(template.name) as conn:
        quarantined = {(client, entity, reason): rows for client, entity, reason, rows in conn.execute(
            "select client_id, entity, reason, count(*) from migration.quarantine where status = 'open' "
            "group by client_id, entity, reason")}
        id_map = dict(conn.execute("select entity, count(*) from migration.migration_id_map group by entity"))
    reasons = {(e.client_id, e.entity, reason): rows for e in fresh_plan.entities
               for reason, rows in (e.held_reasons | e.fallback_reasons).items()}
    assert reasons == quarantined and any(e.held_reasons for e in fresh_plan.entities)
    # the id map lists every migrated row but the duplicate-email people's logins (mapped as participants)
    duplicates = sum(e.fallback_reasons.get("duplicate_email", 0) for e in fresh_plan.entities if e.entity == "user")
    assert sum(id_map.values()) == sum(e.new for e in fresh_plan.entities) - duplicates


def test_plan_after_growth_counts_the_new_rows_and_the_rest_as_already_there(
    migrated_template, copy_database, tmp_path_factory
):
    name = copy_database(migrated_template(SCALE, SEED).name, "plan_grown")
    target = tmp_path_factory.mktemp("plan_grown")  # the plans' and the run's: one parse
    before = reconciliation(name)
    unchanged = planned(name, target)
    for e in unchanged.entities:  # right after a run: nothing to write
        row = before[(e.client_id, e.entity)]
        assert (e.would_migrate, e.already_there, e.held) == (0, row.migrated_rows, row.held_rows)

    grown = grow(name, seed=GROW_SEED, amount=0.05)
    result = planned(name, target)
    assert result.would_proceed
    assert sum(e.new for e in result.entities) > 0
    for schema, layout in grown["schemas"].items():  # every new turn is new, per client
        added = sum(layout["tables"].get(table, 0) for table in TURN_TABLES)
        tenant = next((t for t in result.discovery.tenants if t.schema == schema and t.migrate), None)
        if tenant is not None:
            assert result.entity(tenant.client_id, "turn").new == added > 0, schema

    output = io.StringIO()
    run, _ = runner.run_and_record(runner.RunOptions(database_name=name, target_path=target, output=output))
    assert run.ok, output.getvalue()[-4000:]
    after = reconciliation(name)
    assert {(e.client_id, e.entity) for e in result.entities} == set(after)
    for e in result.entities:
        row = after[(e.client_id, e.entity)]
        assert (e.source_rows, e.already_there + e.would_migrate, e.held, e.fallback) == (
            row.source_rows, row.migrated_rows, row.held_rows, row.fallback_rows), f"{e.client_id} {e.entity}"
    # per entity, the rows the run added are the plan's new ones (a row may move between clients: totals)
    new = Counter()
    for e in result.entities:
        new[e.entity] += e.new
    for entity in new:
        added = (sum(r.migrated_rows for (_, ent), r in after.items() if ent == entity)
                 - sum(r.migrated_rows for (_, ent), r in before.items() if ent == entity))
        assert added == new[entity], entity


def test_an_unmapped_schema_or_drifted_columns_stop_the_plan(fresh, fresh_target, fresh_plan, capsys):
    args = ["--database", fresh, "--target-path", str(fresh_target)]
    parser = argparse.ArgumentParser()
    plan.add_arguments(parser)
    try:  # on the fresh database, put back as it was afterwards
        with database.connect(fresh) as conn:
            conn.execute("create schema rogue_tenant; create table rogue_tenant.topic_paths (id bigint)")
        assert plan.command(parser.parse_args(args)) == 1
        out, err = capsys.readouterr()
        assert "'rogue_tenant'" in err and "client map" in err and "rogue_tenant (topic, UNMAPPED)" in out
        assert "101 dev" in out and "would migrate" in out, "what can be planned is still planned"

        with database.connect(fresh) as conn:
            conn.execute("drop schema rogue_tenant cascade;"
                         " alter table dev.grp_topic_avatar_turns add column mood text")
        assert plan.command(parser.parse_args([*args, "--json"])) == 1
        out, err = capsys.readouterr()
        assert "cogito-migrate discover" in err
        document = json.loads(out)
        assert not document["would_proceed"] and document["unmapped_schemas"] == []
        assert document["drifted_tables"] == ["dev.grp_topic_avatar_turns.mood: absent -> not read"]
        assert document["entities"] == [e.as_json() for e in fresh_plan.entities], "counted as before"
    finally:
        with database.connect(fresh) as conn:
            conn.execute("drop schema if exists rogue_tenant cascade; "
                         "alter table dev.grp_topic_avatar_turns drop column if exists mood")


def test_plan_exits_2_without_the_database(tmp_path, capsys, server):
    parser = argparse.ArgumentParser()
    plan.add_arguments(parser)
    assert plan.command(parser.parse_args(["--database", "no_such_database_for_plan"])) == 2
    assert "does not exist" in capsys.readouterr().err


def test_inline_points_every_reference_at_its_cte():
    class Node:
        def __init__(self, unique_id, kind, relation, code, parents=()):
            self.unique_id, self.resource_type, self.relation_name = unique_id, kind, relation
            self.name, self.compiled_code = unique_id.split(".")[-1], code
            self.depends_on = argparse.Namespace(nodes=list(parents))

    nodes = [
        Node("analysis.p.migration_plan", "analysis", None, 'select * from "db"."s"."b"', ["model.p.b"]),
        Node("model.p.b", "model", '"db"."s"."b"', 'select * from "db"."s"."a" join "db"."r"."pw" using (id)',
             ["model.p.a"]),
        Node("model.p.a", "model", '"db"."s"."a"', 'select 1 as id from "db"."s"."a_old"'),
    ]
    query = plan.inline(nodes, {'"db"."r"."pw"': ("plan__pw", "select 1 as id")})
    assert query.index('"plan__a" as') < query.index('"plan__b" as') < query.index('"plan__migration_plan" as')
    assert 'from "plan__a" join "plan__pw"' in query and '"db"."s"."a"' not in query.replace('"db"."s"."a_old"', "")
    assert query.endswith('select * from "plan__migration_plan"')
