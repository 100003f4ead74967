"""Staging end to end on a simulated Backstage, plus two hostile tenants (`Acme-Corp`, `Bob's "Club"`).

The project is copied to a temporary folder (the parts staging needs), the hostile tenants are added to the copy's
client map, discovery writes the copy's sources, and `dbt build --select staging` runs there: every row of every
migrated tenant must come through once with its client, drifted columns typed, and no secret anywhere.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from backstage_simulator import create_tenant_schema, simulate
from backstage_simulator.ddl import create_public
from cogito_migrate import database, discovery
from cogito_migrate.dbt import PARTIAL_PARSE_FILE, environment, run_dbt
from cogito_migrate.passwords import carry_passwords

pytestmark = pytest.mark.slow

ROOT = database.PROJECT_ROOT
SCALE, SEED = 0.05, 11
HOSTILE = {  # schema -> (client id, layout)
    "Acme-Corp": (140, "topic"),
    "Bob's \"Club\"": (141, "legacy"),
}
STAGING, RESTRICTED = "backstage_staging", "backstage_restricted"
CATALOGUE_MARK = "/* backstage catalogue */"

# staging model -> the Backstage table it unions (tenant tables; rows must match one for one)
TENANT_MODELS = {
    "stg_backstage__topics": ("topic_paths", "topic_id"),
    "stg_backstage__topic_turns": ("grp_topic_avatar_turns", "turn_id"),
    "stg_backstage__legacy_conversations": ("grp_cons", "grp_con_id"),
    "stg_backstage__legacy_turns": ("grp_con_avatar_turns", "turn_id"),
    "stg_backstage__legacy_uploads": ("grp_con_uploads", "upload_id"),
    "stg_backstage__legacy_upload_vectors": ("grp_con_upload_vectors", "chunk_id"),
    "stg_backstage__avatars": ("avatars", "avatar_id"),
    "stg_backstage__avatar_scopes": ("avatar_scopes", "avatar_scope_id"),
    "stg_backstage__groups": ("groups", "group_id"),
    "stg_backstage__participant_groups": ("participant_groups", "participant_id"),
    "stg_backstage__participant_avatars": ("participant_avatars", "participant_id"),
    "stg_backstage__participant_llms": ("participant_llms", "participant_id"),
    "stg_backstage__participant_preferences": ("participant_preferences", "participant_preference_id"),
    "stg_backstage__participant_events": ("participant_events", "event_id"),
    "stg_backstage__grp_templates": ("grp_templates", "grp_template_id"),
    "stg_backstage__file_uploads": ("file_uploads", "upload_id"),
    "stg_backstage__file_upload_vectors": ("file_upload_vectors", "chunk_id"),
}


def copy_project(target: Path) -> Path:
    """The parts of the project a staging build needs (other layers stay out: they are not under test here, and so
    do the analyses, which may read them)."""
    for relative in ("dbt_project.yml", "macros", "seeds", "tests/generic",
                     "models/staging/backstage", "models/staging/migration"):
        source = ROOT / relative
        if source.is_dir():
            shutil.copytree(source, target / relative)
        elif source.exists():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / relative)
    return target


def discover(project: Path, database_name: str, *extra: str) -> int:
    parser = argparse.ArgumentParser()
    discovery.add_arguments(parser)
    return discovery.command(parser.parse_args(["--database", database_name, "--project-dir", str(project), *extra]))


def add_hostile_tenants(conn) -> dict[str, int]:
    """Two tenants with names that need quoting, some rows, a secret, and drift (json, an enum, a missing column)."""
    rows = {}
    for schema, (_, layout) in HOSTILE.items():
        create_tenant_schema(conn, schema, layout)
        name = sql.Identifier(schema)
        conn.execute(sql.SQL("alter table {}.avatars alter column llm_config type json using llm_config::json").format(name))
        conn.execute(
            sql.SQL("insert into {}.avatars (name, llm_config) values ('guide', %s), ('critic', null)").format(name),
            ['{"model": "gpt-4o", "max_tokens": 900, "api_key": "sk-hostile-SECRET", "x": [{"Token": "t-SECRET"}]}'],
        )
        if layout == "topic":
            conn.execute(sql.SQL("insert into {}.topic_paths (path, index) values ('Root.Child', '1_0')").format(name))
            conn.execute(sql.SQL(
                "insert into {}.grp_topic_avatar_turns (topic_id, avatar_id, participant_id, turn_index, content_text,"
                " message_type_id) values (1, 1, null, 1, 'hello', 1), (1, 1, null, 2, 'answer', 2)"
            ).format(name))
        else:
            conn.execute(sql.SQL("create type {}.role_kind as enum ('owner', 'member')").format(name))
            conn.execute(sql.SQL("alter table {0}.participant_groups alter column role type {0}.role_kind"
                                 " using role::{0}.role_kind").format(name))
            conn.execute(sql.SQL("alter table {}.groups drop column description").format(name))
            conn.execute(sql.SQL("insert into {}.groups (name) values ('g')").format(name))
            participant = conn.execute("select min(id) from public.participants").fetchone()[0]
            conn.execute(sql.SQL("insert into {}.participant_groups (participant_id, group_id, role)"
                                 " values (%s, 1, 'owner')").format(name), [participant])
            conn.execute(sql.SQL(
                "insert into {}.grp_con_avatar_turns (grp_con_id, avatar_id, turn_index, content_text, turn_kind_id,"
                " message_type_id) values (1, 1, 1, 'legacy hello', 1, 1), (1, 1, 1.5, 'a comment', 3, 1)"
            ).format(name))
        rows[schema] = 1
    return rows


# dbt's file log with every SQL statement (the catalogue queries are counted there)
STATEMENT_LOG = {"DBT_LOG_LEVEL_FILE": "debug"}


@pytest.fixture(scope="module")
def built(server, tmp_path_factory) -> Iterator[dict]:
    """Simulate, add hostile tenants, discover in a project copy, build staging there."""
    name = f"test_stg_{uuid.uuid4().hex[:8]}"
    manifest = simulate(name, SCALE, SEED)
    try:
        with database.connect(name) as conn:
            add_hostile_tenants(conn)
        project = copy_project(tmp_path_factory.mktemp("stg_project"))
        # before the client map knows them, discovery must refuse (checked in a test below)
        unmapped_code = discover(project, name)
        with (project / discovery.CLIENT_MAP_FILE).open("a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            for schema, (client_id, _) in HOSTILE.items():
                writer.writerow([schema, client_id, f"{schema} client", "", "true"])
        assert discover(project, name) == 0
        carry_passwords(name)
        target = tmp_path_factory.mktemp("stg_target")
        with environment(STATEMENT_LOG):
            build = run_dbt("build", "--select", "staging", project_dir=project, database_name=name,
                            target_path=target, capture=True)
        yield {"database": name, "manifest": manifest, "project": project, "build": build, "target": target,
               "unmapped_code": unmapped_code}
    finally:
        with database.connect("postgres") as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def query(name: str, statement, params=None) -> list[tuple]:
    with database.connect(name) as conn:
        return conn.execute(statement, params).fetchall()


def migrated_clients(project: Path) -> dict[str, int]:
    clients = discovery.read_client_map(project / discovery.CLIENT_MAP_FILE)
    return {c.schema: c.client_id for c in clients.values() if c.migrate}


def test_unmapped_hostile_schema_stopped_discovery(built) -> None:
    assert built["unmapped_code"] == 1


def test_staging_build_passed_with_its_tests(built) -> None:
    assert re.search(r"Done\. PASS=\d+ WARN=\d+ ERROR=0 SKIP=0", built["build"].stdout), built["build"].stdout[-3000:]


def test_every_tenant_row_appears_once_with_its_client(built) -> None:
    name, clients = built["database"], migrated_clients(built["project"])
    tenants = [s for s, in query(name, "select nspname from pg_namespace") if s in clients]
    assert set(HOSTILE) <= set(tenants) and "template" not in tenants
    checked = 0
    for model, (table, id_column) in TENANT_MODELS.items():
        for schema in tenants:
            exists = query(name, "select 1 from pg_tables where schemaname = %s and tablename = %s", [schema, table])
            source_count = (
                query(name, sql.SQL("select count(*) from {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))[0][0]
                if exists else 0
            )
            staged = query(name, sql.SQL(
                "select count(*), count(distinct {id}), count(*) filter (where client_id = %s) from {schema}.{model}"
                " where source_schema = %s"
            ).format(id=sql.Identifier(id_column), schema=sql.Identifier(STAGING), model=sql.Identifier(model)),
                [clients[schema], schema])[0]
            assert staged[0] == source_count, (model, schema)
            assert staged[2] == source_count, (model, schema, "client_id")
            if model not in {"stg_backstage__participant_groups", "stg_backstage__participant_avatars",
                             "stg_backstage__participant_llms"}:
                assert staged[1] == source_count, (model, schema, "ids unique")
            checked += source_count
    assert checked > 100
    # the simulator's own counts agree for the tenants it built
    manifest_tables = built["manifest"]["schemas"]["dev"]["tables"]
    dev_turns = query(name, f"select count(*) from {STAGING}.stg_backstage__topic_turns where client_id = 101")[0][0]
    assert dev_turns == manifest_tables["grp_topic_avatar_turns"] > 0


def test_turn_ids_match_the_source_exactly(built) -> None:
    name = built["database"]
    source = set(query(name, "select 'dev', id::bigint from dev.grp_topic_avatar_turns"
                             " union all select 'bsa', id from bsa.grp_con_avatar_turns"))
    staged = set(query(name, f"select source_schema, turn_id from {STAGING}.stg_backstage__topic_turns"
                             f" where source_schema = 'dev' union all select source_schema, turn_id"
                             f" from {STAGING}.stg_backstage__legacy_turns where source_schema = 'bsa'"))
    assert staged == source and source


def test_public_rows_take_the_client_their_schema_names(built) -> None:
    name, clients = built["database"], migrated_clients(built["project"])
    uploads = query(name, f"select bucket_name, client_id from {STAGING}.stg_backstage__file_uploads"
                          " where source_schema = 'public'")
    assert uploads
    assert all(client == clients.get(bucket) for bucket, client in uploads)
    chunks = query(name, f"select u.client_id is not distinct from c.client_id from {STAGING}.stg_backstage__file_upload_vectors c"
                         f" join {STAGING}.stg_backstage__file_uploads u on u.source_schema = c.source_schema"
                         " and u.upload_id = c.upload_id where c.source_schema = 'public'")
    assert chunks and all(same for same, in chunks)
    events = query(name, "select l.id, s.name from public.participant_event_logs l left join public.schemas s"
                         " on s.id = l.schema_id")
    staged = dict(query(name, f"select event_id, client_id from {STAGING}.stg_backstage__participant_event_logs"))
    assert len(staged) == len(events)
    assert all(staged[event_id] == clients.get(schema) for event_id, schema in events)
    assert any(v is None for v in staged.values()) and any(v is not None for v in staged.values())


def test_drifted_columns_come_through_typed(built) -> None:
    name = built["database"]
    types = dict(query(name, "select table_name || '.' || column_name, data_type from information_schema.columns"
                             " where table_schema = %s", [STAGING]))
    assert types["stg_backstage__groups.group_type_id"] == "integer"
    assert types["stg_backstage__groups.description"] == "text"
    assert types["stg_backstage__participant_groups.role_text"] == "text"
    assert types["stg_backstage__topic_turns.topic_index"] == "text"
    assert types["stg_backstage__topic_turns.turn_index"] == "numeric"
    assert types["stg_backstage__avatars.llm_config"] == "jsonb"
    assert types["stg_backstage__topics.topic_path"] == "text"
    # conflict_club's groups lack group_type_id: typed NULLs
    assert query(name, f"select count(*) filter (where group_type_id is not null), count(*)"
                       f" from {STAGING}.stg_backstage__groups where source_schema = 'conflict_club'")[0][0] == 0
    # first_congregational references topics by topicpathid
    fc = query(name, f"select count(topic_id), count(topic_index), count(*) from {STAGING}.stg_backstage__topic_turns"
                     " where source_schema = 'first_congregational'")[0]
    assert fc[0] == 0 and fc[1] == fc[2] > 0
    # the enum role of Bob's "Club" and its dropped description column
    bob = query(name, f"select g.role_text, g.role_form from {STAGING}.stg_backstage__participant_groups g"
                      " where g.source_schema = %s", ['Bob\'s "Club"'])
    assert bob == [("owner", "role_text")]
    assert query(name, f"select description from {STAGING}.stg_backstage__groups where source_schema = %s",
                 ['Bob\'s "Club"']) == [(None,)]


def test_categories(built) -> None:
    name = built["database"]
    rows = query(name, f"select message_type_id, speaker_kind, turn_kind_id, is_comment from {STAGING}.stg_backstage__legacy_turns"
                       " union select message_type_id, speaker_kind, turn_kind_id, is_comment"
                       f" from {STAGING}.stg_backstage__topic_turns")
    for message_type_id, speaker_kind, turn_kind_id, is_comment in rows:
        assert speaker_kind == {1: "user", 2: "assistant"}.get(message_type_id, "unknown")
        assert is_comment == (turn_kind_id == 3)
    zero = query(name, f"select count(*) filter (where is_zero_vector), count(*) filter (where content_vector is null"
                       f" and is_zero_vector is not null) from {STAGING}.stg_backstage__topic_turns")[0]
    assert zero[1] == 0


def test_no_secret_value_reaches_any_staging_view(built) -> None:
    name, manifest = built["database"], built["manifest"]
    needles = [s for s in manifest["secrets"] if s] + ["sk-hostile-SECRET", "t-SECRET"]
    plaintexts = [p for p in _plaintext_passwords(manifest) if len(p) >= 6]
    views = query(name, "select table_schema, table_name from information_schema.views where table_schema in (%s, %s)",
                  [STAGING, RESTRICTED])
    assert len(views) >= 30
    for schema, view in views:
        found = query(name, sql.SQL(
            "select needle from unnest(%s::text[]) as needle"
            " where exists (select 1 from {}.{} as row_value where strpos(row_value::text, needle) > 0)"
        ).format(sql.Identifier(schema), sql.Identifier(view)), [needles + plaintexts])
        assert found == [], (view, found)
    columns = {c for c, in query(name, "select column_name from information_schema.columns where table_schema = %s",
                                 [STAGING])}
    assert not {"password", "api_key"} & columns


def _plaintext_passwords(manifest: dict) -> list[str]:
    """The manifest's known plaintext passwords, whatever shape its `passwords` entry has."""
    found: list[str] = []

    def walk(value, key: str | None = None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in {"plaintext", "password", None} and not value.startswith("$2"):
            found.append(value)

    walk(manifest.get("passwords", []))
    return found


def test_restricted_model_keeps_only_bcrypt_hashes(built) -> None:
    name = built["database"]
    rows = query(name, f"select password_hash, password_shape from {RESTRICTED}.stg_migration__carried_passwords")
    assert len(rows) == query(name, "select count(*) from public.participants")[0][0]
    for password_hash, password_shape in rows:
        if password_shape in {"bcrypt_2a", "bcrypt_2b", "bcrypt_2y"}:
            assert password_hash and password_hash.startswith("$2a$")
        else:
            assert password_hash is None
    assert {shape for _, shape in rows} >= {"plaintext", "bcrypt_2b"}


def test_catalogue_is_read_once_per_invocation(built) -> None:
    """35 staging views over 8 schemas, one catalogue query in the whole build."""
    log = (built["target"] / "logs" / "dbt.log").read_text()
    assert log.count(CATALOGUE_MARK) == 1


def test_catalogue_queries_do_not_grow_with_tenants(server, make_database, tmp_path) -> None:
    """Compile staging for 6 and for 30 tenant schemas: one catalogue query each time."""
    figures = {}
    for tenants in (6, 30):
        name = make_database("stg_scale")
        with database.connect(name) as conn:
            create_public(conn)  # the public tables the tenant tables reference
            for index in range(tenants):
                create_tenant_schema(conn, f"tenant_{index:02d}", "topic" if index % 2 else "legacy")
        project = copy_project(tmp_path / f"p{tenants}")
        with (project / discovery.CLIENT_MAP_FILE).open("w", encoding="utf-8") as handle:
            handle.write("schema,client_id,name,subdomain,migrate\n")
            for index in range(tenants):
                handle.write(f"tenant_{index:02d},{500 + index},Tenant {index},,true\n")
        assert discover(project, name) == 0
        target = tmp_path / f"target{tenants}"
        started = time.perf_counter()
        with environment(STATEMENT_LOG):
            result = run_dbt("compile", "--select", "staging", project_dir=project, database_name=name,
                             target_path=target, capture=True)
        elapsed = time.perf_counter() - started
        assert result.returncode == 0, result.stdout[-3000:]
        log = (target / "logs" / "dbt.log").read_text()
        figures[tenants] = (log.count(CATALOGUE_MARK), elapsed)
    print(f"catalogue queries and compile seconds by tenant count: {figures}")
    assert figures[6][0] == figures[30][0] == 1, figures


STRIP_CASES = [  # (document, expected after stripping)
    ({"model": "gpt", "api_key": "k1", "max_tokens": 5}, {"model": "gpt", "max_tokens": 5}),
    ({"a": {"b": [{"token": "t", "ok": 1}, {"c": {"d": {"e": {"f": {"g": {"h": {"password": "p"}}}}}}}]}},
     {"a": {"b": [{"ok": 1}, {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}]}}),
    ({"apiKey": "k", "accessToken": "t", "Authorization": "Bearer x", "client_secret": "s", "x-api-key": "k",
      "keywords": ["a"], "author": "me", "tokenizer": "cl100k", "monkey": 1},
     {"keywords": ["a"], "author": "me", "tokenizer": "cl100k", "monkey": 1}),
    ([{"secret": 1}, 2, "key"], [{}, 2, "key"]),
    ("just a string", "just a string"),
    (None, None),
]


def sql_literal(document) -> str:
    return "null" if document is None else "'" + json.dumps(document).replace("'", "''") + "'"


def test_secret_stripping_at_any_depth(built) -> None:
    """The strip macro, compiled by dbt and run on documents with secrets at every depth and in every form."""
    rows = ", ".join(
        f"({index}, {sql_literal(doc)}::jsonb)"
        for index, (doc, _) in enumerate(STRIP_CASES)
    )
    inline = f"select id, {{{{ backstage_strip_secrets('doc') }}}} as stripped from (values {rows}) as cases (id, doc)"
    target = built["target"] / "strip"  # its own log, beside a copy of the build's parse (no second full parse)
    target.mkdir(exist_ok=True)
    shutil.copy2(built["target"] / PARTIAL_PARSE_FILE, target)
    compiled = run_dbt("--quiet", "compile", "--inline", inline, project_dir=built["project"],
                       database_name=built["database"], target_path=target, capture=True)
    assert compiled.returncode == 0, compiled.stdout[-2000:]
    result = dict(query(built["database"], compiled.stdout.strip()))
    assert result == {index: expected for index, (_, expected) in enumerate(STRIP_CASES)}
