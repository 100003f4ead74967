"""Many tenants: a Backstage of dozens of small tenant schemas, discovered, built and verified end to end.

`cogito-migrate simulate --extra-tenants N --client-map <copy's seed>` adds N small tenants to a small simulation and
writes the client map for them into a copy of the project (the committed seed is only read); `discover` and `run`
then go through the copy's command line, as an operator's would: every tenant schema is mapped and declared, the
build succeeds, verify reconciles every client (one reconciliation row per client and entity) and a second run
changes nothing. The times at 6, 60 and 200 tenants are in README ("Many tenants").
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml

from cogito_migrate import build_inputs, database, discovery
from project_copy import cogito_migrate, copy_project

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 43
EXTRA_TENANTS = 54  # with the simulator's 6 tenant schemas: 60
TURN_TABLES = {"topic": "grp_topic_avatar_turns", "legacy": "grp_con_avatar_turns"}
# what every extra tenant holds: people with memberships, topics or conversations, their turns
EVERY_TENANT_ENTITIES = {"user", "participant", "block", "turn"}
COGITO_SCHEMAS = {"client_mgmt", "conversation", "files", "events"}


@dataclass(frozen=True)
class ManyTenants:
    name: str
    project: Path
    manifest: dict
    committed_seed: bytes
    discover: subprocess.CompletedProcess
    run: subprocess.CompletedProcess
    verify: subprocess.CompletedProcess
    rerun: subprocess.CompletedProcess
    before_rerun: dict[str, str]  # the Cogito tables' fingerprints after the first run
    after_rerun: dict[str, str]


def cogito_tables(conn: psycopg.Connection) -> dict[str, str]:
    """Row count, row versions and structure of every table of the Cogito schemas (the run audit left out)."""
    taken = build_inputs.take(conn)
    return {name: state for name, state in taken.tables.items() if taken.locations[name][0] in COGITO_SCHEMAS}


@pytest.fixture(scope="module")
def many(make_database, tmp_path_factory) -> Iterator[ManyTenants]:
    committed_seed = (database.PROJECT_ROOT / discovery.CLIENT_MAP_FILE).read_bytes()
    project = copy_project(tmp_path_factory.mktemp("many_tenants") / "project")
    name = make_database("many_tenants")
    simulated = cogito_migrate(project, "simulate", "--scale", str(SCALE), "--seed", str(SEED), "--database", name,
                               "--extra-tenants", str(EXTRA_TENANTS),
                               "--client-map", str(project / discovery.CLIENT_MAP_FILE))
    assert simulated.returncode == 0, simulated.stderr[-3000:]
    discovered = cogito_migrate(project, "discover", "--database", name)
    run = cogito_migrate(project, "run", "--database", name)
    verified = cogito_migrate(project, "verify", "--database", name)
    with database.connect(name) as conn:
        before = cogito_tables(conn)
    rerun = cogito_migrate(project, "run", "--database", name)
    with database.connect(name) as conn:
        after = cogito_tables(conn)
    yield ManyTenants(name, project, json.loads(simulated.stdout), committed_seed, discovered, run, verified, rerun,
                      before, after)


@pytest.fixture(scope="module")
def conn(many) -> Iterator[psycopg.Connection]:
    with database.connect(many.name) as connection:
        yield connection


def extra_clients(many) -> dict[str, int]:
    return {schema: many.manifest["schemas"][schema]["client_id"] for schema in many.manifest["extra_tenants"]}


def test_the_client_map_is_written_into_the_copy_and_the_committed_seed_is_untouched(many):
    assert (database.PROJECT_ROOT / discovery.CLIENT_MAP_FILE).read_bytes() == many.committed_seed
    clients = discovery.read_client_map(many.project / discovery.CLIENT_MAP_FILE)
    committed = discovery.read_client_map(database.PROJECT_ROOT / discovery.CLIENT_MAP_FILE)
    assert {schema: clients[schema] for schema in committed} == committed
    assert {schema: clients[schema].client_id for schema in clients.keys() - committed.keys()} == extra_clients(many)
    assert len(extra_clients(many)) == EXTRA_TENANTS


def test_discovery_maps_and_declares_every_tenant(many):
    assert many.discover.returncode == 0, many.discover.stderr
    sources = yaml.safe_load((many.project / discovery.SOURCES_FILE).read_text(encoding="utf-8"))["sources"]
    declared = {source["schema"]: source["config"]["meta"] for source in sources if source["schema"] != "public"}
    assert len(declared) == EXTRA_TENANTS + 6
    for schema, client_id in extra_clients(many).items():
        layout = many.manifest["schemas"][schema]["layout"]
        assert declared[schema] | {"client_id": client_id, "layout": layout, "migrate": True} == declared[schema]


def test_the_run_succeeds_for_every_client(many, conn):
    assert many.run.returncode == 0, many.run.stdout[-3000:] + many.run.stderr[-3000:]
    (outcome, clients), = conn.execute(
        "select outcome, clients_migrated from events.migration_runs order by started_at limit 1").fetchall()
    assert outcome == "success"
    assert set(extra_clients(many).values()) <= set(clients)
    assert len(clients) == EXTRA_TENANTS + 5  # the template schema is not migrated


def test_verify_reconciles_every_client_once_per_entity(many, conn):
    assert many.verify.returncode == 0, many.verify.stdout[-3000:] + many.verify.stderr[-3000:]
    rows = conn.execute(
        "select client_id, backstage_schema, entity, source_rows, migrated_rows + held_rows, status"
        " from migration.reconciliation where client_id >= 1000").fetchall()
    by_client: dict[int, list[str]] = {}
    for client_id, _, entity, source, landed, status in rows:
        by_client.setdefault(client_id, []).append(entity)
        assert (source, status) == (landed, "reconciled"), (client_id, entity)
    assert set(by_client) == set(extra_clients(many).values())
    for entities in by_client.values():
        assert sorted(entities) == sorted(set(entities)) and set(entities) >= EVERY_TENANT_ENTITIES
    turns = {(schema, entity): source for _, schema, entity, source, _, _ in rows}
    for schema in extra_clients(many):
        written = many.manifest["schemas"][schema]
        assert turns[(schema, "turn")] == written["tables"][TURN_TABLES[written["layout"]]] > 0


def test_a_rerun_finds_every_tenant_unchanged_and_changes_nothing(many, conn):
    """The second run's fingerprint of every table (counted in batches: one statement over every tenant table
    overflowed PostgreSQL's lock table) equals the verified build's, so it skips the build and writes nothing.
    That a forced rebuild writes nothing is test_reruns.py's (the same SQL for any number of tenants)."""
    assert many.rerun.returncode == 0, many.rerun.stdout[-3000:] + many.rerun.stderr[-3000:]
    (rows_written, steps), = conn.execute(
        "select rows_written, steps from events.migration_runs order by started_at desc limit 1").fetchall()
    assert sum((rows_written or {}).values()) == 0, rows_written
    assert next(step for step in steps if step["step"] == "build").get("skipped") is True, steps
    assert many.after_rerun == many.before_rerun
