"""`cogito-migrate discover`: layouts, the client map, drift, generated files, --check, hostile names."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
import yaml
from psycopg import sql

from cogito_migrate import database, discovery, vocabulary

ROOT = database.PROJECT_ROOT


def run_discover(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    discovery.add_arguments(parser)
    code = discovery.command(parser.parse_args(list(argv)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A minimal project copy: the client map and the vocabulary (column specs) discovery reads."""
    for relative in (discovery.CLIENT_MAP_FILE, vocabulary.PROJECT_FILE):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    return tmp_path


@pytest.fixture
def small_backstage(make_database, connect) -> str:
    """public, a topic-layout `dev`, a legacy-layout `Acme-Corp` and a non-Backstage schema."""
    name = make_database("stg_disc")
    with connect(name) as conn:
        conn.execute("create table public.participants (id bigserial primary key, email text, password text)")
        conn.execute("create table public.session (sid text)")
        conn.execute("create schema dev")
        conn.execute("create table dev.topic_paths (id bigint, path ltree, index text, created_on timestamptz)")
        conn.execute("create table dev.avatars (id bigint, name text, llm_config json)")
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier("Acme-Corp")))
        conn.execute(sql.SQL("create table {}.grp_cons (id bigint, name text)").format(sql.Identifier("Acme-Corp")))
        conn.execute("create schema unrelated")
        conn.execute("create table unrelated.things (id int)")
    return name


def add_client(project: Path, line: str) -> None:
    with (project / discovery.CLIENT_MAP_FILE).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


# ---- pure functions ---------------------------------------------------------------------------------------


def test_layout_comes_from_marker_tables() -> None:
    assert discovery.detect_layout({"topic_paths": []}) == "topic"
    assert discovery.detect_layout({"grp_topic_avatar_turns": []}) == "topic"
    assert discovery.detect_layout({"grp_cons": [], "avatars": []}) == "legacy"
    assert discovery.detect_layout({"grp_con_avatar_turns": []}) == "legacy"
    assert discovery.detect_layout({"avatars": [], "groups": []}) is None


def test_source_names_are_sanitised_and_unique() -> None:
    schemas = [
        discovery.SchemaInventory(name, "tenant", "topic")
        for name in ("Acme-Corp", "acme_corp", "o'brien \"club\"", "dev")
    ]
    names = discovery.source_names(schemas)
    assert names["Acme-Corp"] == "backstage_acme_corp"
    assert names["acme_corp"] == "backstage_acme_corp_2"
    assert names["o'brien \"club\""] == "backstage_o_brien_club"
    assert names["dev"] == "backstage_dev"


def test_column_drift_names_missing_ignored_and_cast_columns() -> None:
    spec = {"id": "bigint", "name": "text", "group_type_id": "integer"}
    drift = discovery.column_drift([("id", "integer"), ("name", "text"), ("colour", "text")], spec)
    assert drift == {
        "missing_columns_null": ["group_type_id"],
        "ignored_columns": ["colour"],
        "cast_columns": {"id": "integer -> bigint"},
    }
    assert discovery.column_drift([("id", "bigint")], {"id": "bigint"}) == {}


def test_committed_client_map_has_the_spec_defaults() -> None:
    clients = discovery.read_client_map(ROOT / discovery.CLIENT_MAP_FILE)
    assert {s: (c.client_id, c.name, c.subdomain, c.migrate) for s, c in clients.items()} == {
        "dev": (101, "Development", "dev", True),
        "bsa": (102, "BSA", "bsa", True),
        "conflict_club": (103, "Conflict Club", "conflict-club", True),
        "first_congregational": (104, "First Congregational", "first-congregational", True),
        "timethatremains": (105, "Time That Remains", None, True),
        "template": (None, "Template (blueprint)", None, False),
    }


def test_a_migrated_schema_needs_a_client_id(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("schema,client_id,name,subdomain,migrate\nnew_one,,New,,true\n")
    with pytest.raises(discovery.DiscoveryError, match="new_one.*no client_id"):
        discovery.read_client_map(path)


def test_column_specs_never_name_a_secret_column() -> None:
    specs = vocabulary.load(ROOT).column_specs
    assert "password" not in specs["participants"]
    assert "api_key" not in specs["llms"]
    assert "session" not in specs
    assert list(specs["grp_topic_avatar_turns"])[:3] == ["id", "topic_id", "topicpathid"]


# ---- against a database -----------------------------------------------------------------------------------


def test_unmapped_tenant_schema_stops_with_its_name_and_the_file(small_backstage, project, capsys) -> None:
    code, _, err = run_discover(capsys, "--database", small_backstage, "--project-dir", str(project))
    assert code == 1
    assert "'Acme-Corp'" in err and "seeds/backstage_clients.csv" in err
    assert "'dev'" not in err  # mapped schemas are not blamed
    assert not (project / discovery.SOURCES_FILE).exists()


def test_discover_writes_sources_and_check_detects_drift(small_backstage, project, capsys, connect) -> None:
    add_client(project, "Acme-Corp,120,Acme Corp,acme,true")
    code, out, err = run_discover(capsys, "--database", small_backstage, "--project-dir", str(project))
    assert code == 0, err
    assert "Acme-Corp: legacy layout" in out and "dev: topic layout" in out
    assert "maps schema 'bsa'" in err  # mapped but absent: a warning, not an error

    document = yaml.safe_load((project / discovery.SOURCES_FILE).read_text())
    sources = {s["name"]: s for s in document["sources"]}
    assert set(sources) == {"backstage_public", "backstage_dev", "backstage_acme_corp"}  # `unrelated` is no tenant
    acme = sources["backstage_acme_corp"]
    assert acme["schema"] == "Acme-Corp"
    assert acme["quoting"] == {"database": True, "schema": True, "identifier": True}
    assert acme["config"]["meta"] == {
        "backstage_kind": "tenant", "client_id": 120, "client_name": "Acme Corp", "subdomain": "acme",
        "layout": "legacy", "migrate": True,
    }
    public_tables = {t["name"]: t for t in sources["backstage_public"]["tables"]}
    assert "session" not in public_tables
    # only what the catalogue does not say: a secret column is the only column listed
    assert public_tables["participants"]["columns"] == [
        {"name": "password", "description": discovery.SECRET_COLUMN}
    ]
    dev_tables = {t["name"]: t for t in sources["backstage_dev"]["tables"]}
    listed = [table for source in document["sources"] for table in source["tables"] if "columns" in table]
    assert listed == [public_tables["participants"]]
    # freshness per source on created_at; a table says only how it differs
    assert sources["backstage_dev"]["config"]["loaded_at_field"] == "created_at"
    assert sources["backstage_dev"]["config"]["freshness"] == discovery.FRESHNESS
    assert dev_tables["topic_paths"]["config"]["loaded_at_field"] == "created_on"
    assert dev_tables["avatars"]["config"]["freshness"] is None  # no timestamp column
    assert dev_tables["avatars"]["config"]["meta"]["drift"]["cast_columns"]["llm_config"] == "json -> jsonb"
    assert "instruction_set" in dev_tables["avatars"]["config"]["meta"]["drift"]["missing_columns_null"]
    assert dev_tables["avatars"]["description"] == discovery.TABLE_DESCRIPTIONS["avatars"]
    for source in document["sources"]:
        assert source["description"]
        for table in source["tables"]:
            assert table["description"]

    lineage = (project / discovery.LINEAGE_FILE).read_text()
    assert '"backstage_acme_corp": [\n        "grp_cons"\n    ]' in lineage

    code, out, _ = run_discover(capsys, "--check", "--database", small_backstage, "--project-dir", str(project))
    assert code == 0 and "match" in out

    with connect(small_backstage) as conn:
        conn.execute('alter table "Acme-Corp".grp_cons add column description text')
    code, _, err = run_discover(capsys, "--check", "--database", small_backstage, "--project-dir", str(project))
    assert code == 1
    # the new column is no longer one the spec lacks there
    assert "Acme-Corp.grp_cons.description: missing -> text): run `cogito-migrate discover`" in err


def test_discover_honours_an_output_path(small_backstage, project, tmp_path, capsys) -> None:
    add_client(project, "Acme-Corp,120,Acme Corp,acme,false")
    target = tmp_path / "elsewhere" / "sources.yml"
    code, _, err = run_discover(
        capsys, "--database", small_backstage, "--project-dir", str(project), "--output", str(target)
    )
    assert code == 0, err
    acme = next(s for s in yaml.safe_load(target.read_text())["sources"] if s["schema"] == "Acme-Corp")
    assert acme["config"]["meta"]["migrate"] is False
    # a schema that is not migrated declares no lineage
    assert "backstage_acme_corp" not in (project / discovery.LINEAGE_FILE).read_text()


def test_discovery_reads_the_catalogue_once(small_backstage, project) -> None:
    add_client(project, "Acme-Corp,120,Acme Corp,acme,true")

    class CountingConnection:
        def __init__(self, conn) -> None:
            self.conn, self.queries = conn, 0

        def execute(self, *args, **kwargs):
            self.queries += 1
            return self.conn.execute(*args, **kwargs)

    with database.connect(small_backstage) as conn:
        counting = CountingConnection(conn)
        result = discovery.discover(counting, project)
    assert counting.queries == 1
    assert [s.schema for s in result.schemas] == ["public", "Acme-Corp", "dev"]
