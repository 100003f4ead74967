"""The simulator builds Backstage as the source spec describes it: structure, drift, data quirks, manifest.

Most tests share one small simulation (scale 0.1, ~2,000 turns); one slow test builds scale 1.
Every check reads the real database back (information_schema, pg_catalog, the tables themselves) and
compares it with the manifest, which the simulator derives from its generation plan, not from the tables.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import bcrypt
import psycopg
import pytest
from psycopg import sql

from backstage_simulator import MARK, SimulatorError, create_tenant_schema, simulate
from backstage_simulator.plan import make_plan
from cogito_migrate import database
from cogito_migrate.cli import main

TOPIC_SCHEMAS = ("dev", "first_congregational")
LEGACY_SCHEMAS = ("bsa", "conflict_club", "timethatremains")
TENANT_SCHEMAS = TOPIC_SCHEMAS + LEGACY_SCHEMAS
TURNS = {"topic": "grp_topic_avatar_turns", "legacy": "grp_con_avatar_turns"}
SECRET_KEYS = ("api_key", "key", "secret", "token", "password")


def layout_of(schema: str) -> str:
    return "topic" if schema in TOPIC_SCHEMAS else "legacy"


def drop(name: str) -> None:
    with database.connect("postgres") as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def built(make_database) -> Iterator[tuple[str, dict]]:
    name = make_database("sim")
    manifest = simulate(database=name, scale=0.1, seed=7)  # an empty, unmarked database is taken over
    yield name, manifest


@pytest.fixture(scope="module")
def db(built) -> Iterator[psycopg.Connection]:
    with database.connect(built[0]) as conn:
        yield conn


@pytest.fixture(scope="module")
def manifest(built) -> dict:
    return built[1]


def rows(conn: psycopg.Connection, query: str, *params) -> list[tuple]:
    return conn.execute(query, params or None).fetchall()


def column_list(conn, schema: str, table: str) -> list[tuple[str, str, bool]]:
    """(name, full type, nullable) in column order."""
    return rows(conn, """
        select a.attname, format_type(a.atttypid, a.atttypmod), not a.attnotnull
        from pg_attribute a
        where a.attrelid = format('%%I.%%I', %s::text, %s::text)::regclass and a.attnum > 0 and not a.attisdropped
        order by a.attnum""", schema, table)


def columns(conn, schema: str, table: str) -> dict[str, tuple[str, bool]]:
    return {name: (kind, nullable) for name, kind, nullable in column_list(conn, schema, table)}


def constraints(conn, schema: str, table: str, kind: str) -> list[str]:
    """Definitions of the table's constraints of one kind (p, u, f)."""
    return [r[0] for r in rows(conn, """
        select pg_get_constraintdef(c.oid) from pg_constraint c
        where c.conrelid = format('%%I.%%I', %s::text, %s::text)::regclass and c.contype = %s
        order by 1""", schema, table, kind)]


def index_definitions(conn, schema: str, table: str) -> list[str]:
    return [r[0] for r in rows(conn, "select indexdef from pg_indexes where schemaname = %s and tablename = %s",
                               schema, table)]


def table_names(conn, schema: str) -> set[str]:
    return {r[0] for r in rows(conn, "select table_name from information_schema.tables where table_schema = %s"
                               " and table_type = 'BASE TABLE'", schema)}


def fingerprint(name: str) -> dict[str, str]:
    """md5 per table over the md5 of every row's text form, independent of physical row order."""
    with database.connect(name) as conn:
        tables = rows(conn, """
            select table_schema, table_name from information_schema.tables
            where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
            order by 1, 2""")
        result = {}
        for schema, table in tables:
            query = sql.SQL("select md5(coalesce(string_agg(h, '' order by h), '')) from"
                            " (select md5(t::text) as h from {} as t) as x").format(sql.Identifier(schema, table))
            result[f"{schema}.{table}"] = conn.execute(query).fetchone()[0]
        return result


# -- structure -------------------------------------------------------------------------------------------


def test_public_structure(db):
    participants = columns(db, "public", "participants")
    assert participants == {"id": ("bigint", False), "name": ("text", False), "email": ("text", False),
                            "password": ("text", False), "created_at": ("timestamp with time zone", True)}
    assert constraints(db, "public", "participants", "u") == ["UNIQUE (email)"]
    assert columns(db, "public", "llms")["api_key"] == ("text", False)
    assert "FOREIGN KEY (type_id) REFERENCES llm_types(id)" in constraints(db, "public", "llms", "f")
    assert columns(db, "public", "file_uploads")["mime_type"] == ("text", True)
    assert columns(db, "public", "file_uploads")["tags"] == ("text[]", True)
    assert constraints(db, "public", "file_upload_vectors", "u") == ["UNIQUE (file_upload_id, chunk_index)"]
    assert constraints(db, "public", "file_upload_vectors", "f") == [
        "FOREIGN KEY (file_upload_id) REFERENCES file_uploads(id) ON DELETE CASCADE"]
    assert columns(db, "public", "file_upload_vectors")["content_vector"] == ("vector(1536)", True)
    assert columns(db, "public", "participant_event_logs")["ip_address"] == ("character varying(45)", True)
    assert columns(db, "public", "participant_event_logs")["details"] == ("jsonb", True)
    assert constraints(db, "public", "participant_event_logs", "f") == [
        "FOREIGN KEY (event_type_id) REFERENCES participant_event_types(id)",
        "FOREIGN KEY (schema_id) REFERENCES schemas(id)"]
    # participant_event_types ids are chosen by hand: no default
    assert rows(db, "select column_default from information_schema.columns where table_schema = 'public'"
                    " and table_name = 'participant_event_types' and column_name = 'id'") == [(None,)]
    assert constraints(db, "public", "session", "p") == ["PRIMARY KEY (sid)"]
    assert constraints(db, "public", "participant_roles", "p") == ["PRIMARY KEY (role_id)"]
    for lookup in ("llm_types", "message_types", "turn_kinds", "group_types", "grp_con_types", "preference_types",
                   "participant_event_categories", "file_types", "avatar_event_types", "turn_relationship_types"):
        assert constraints(db, "public", lookup, "u") == ["UNIQUE (name)"], lookup
    assert rows(db, "select 1 from pg_class where relname = 'topic_paths_numeric_id_seq' and relkind = 'S'")
    assert table_names(db, "public") >= {"schemas", "groups", "participant_event_logs", "session"}


def test_lookup_seed_rows(db):
    assert rows(db, "select id, name from public.message_types order by id")[:2] == [(1, "user"), (2, "assistant")]
    assert (2, "comment") in rows(db, "select id, name from public.turn_kinds")
    assert rows(db, "select count(*) from public.participant_event_types")[0][0] >= 3
    assert {r[0] for r in rows(db, "select name from public.schemas")} == {"public", *TENANT_SCHEMAS}


@pytest.mark.parametrize("schema", TOPIC_SCHEMAS + ("template",))
def test_topic_layout_structure(db, schema):
    topics = columns(db, schema, "topic_paths")
    assert topics == {"id": ("bigint", False), "path": ("ltree", False), "index": ("text", False),
                      "created_by": ("integer", True), "created_on": ("timestamp with time zone", True)}
    assert constraints(db, schema, "topic_paths", "u") == ["UNIQUE (index)", "UNIQUE (path)"]
    assert constraints(db, schema, "topic_paths", "f") == ["FOREIGN KEY (created_by) REFERENCES participants(id)"]
    assert rows(db, "select column_default from information_schema.columns where table_schema = %s"
                    " and table_name = 'topic_paths' and column_name = 'id'", schema) == [
        ("nextval('topic_paths_numeric_id_seq'::regclass)",)]
    assert any("USING gist (path)" in d for d in index_definitions(db, schema, "topic_paths"))

    turns = columns(db, schema, "grp_topic_avatar_turns")
    assert turns["turn_index"] == ("numeric", False)
    assert turns["content_vector"] == ("vector(1536)", True)
    assert turns["avatar_id"] == ("integer", False)
    assert turns["participant_id"] == ("integer", True) and turns["llm_id"] == ("integer", True)
    assert turns["turn_kind_id"] == ("integer", False)
    assert constraints(db, schema, "grp_topic_avatar_turns", "f") == []  # no foreign keys at all
    assert constraints(db, schema, "grp_topic_avatar_turns", "p") == ["PRIMARY KEY (id)"]

    assert constraints(db, schema, "participant_groups", "p") == ["PRIMARY KEY (participant_id, group_id)"]
    assert "FOREIGN KEY (participant_role_id) REFERENCES participant_roles(role_id)" in constraints(
        db, schema, "participant_groups", "f")
    assert "role" not in columns(db, schema, "participant_groups")
    assert columns(db, schema, "groups")["group_type_id"] == ("integer", True)
    assert constraints(db, schema, "participant_preferences", "u") == []  # a history
    assert columns(db, schema, "participant_events")["participant_id"] == ("bigint", False)
    assert columns(db, schema, "grp_template_topics")["topic_index"] == ("numeric(10,2)", True)
    assert columns(db, schema, "avatars")["llm_config"] == ("jsonb", True)
    assert constraints(db, schema, "avatars", "u") == ["UNIQUE (name)"]

    # tenant file_uploads: mime_type not null and another column order than public's
    uploads = column_list(db, schema, "file_uploads")
    assert ("mime_type", "text", False) in uploads
    assert [c[0] for c in uploads] != [c[0] for c in column_list(db, "public", "file_uploads")]
    assert {c[0] for c in uploads} == {c[0] for c in column_list(db, "public", "file_uploads")}
    assert any("USING ivfflat (content_vector vector_cosine_ops)" in d
               for d in index_definitions(db, schema, "file_upload_vectors"))
    assert not any("ivfflat" in d for d in index_definitions(db, "public", "file_upload_vectors"))

    client_tables = {"clients", "client_schemas", "client_schema_preferences"}
    assert (client_tables <= table_names(db, schema)) == (schema == "dev")


def test_topic_reference_drift(db):
    dev, first = columns(db, "dev", "grp_topic_avatar_turns"), columns(db, "first_congregational",
                                                                           "grp_topic_avatar_turns")
    assert dev["topic_id"] == ("bigint", True) and "topicpathid" not in dev
    assert first["topicpathid"] == ("text", True) and "topic_id" not in first


@pytest.mark.parametrize("schema", LEGACY_SCHEMAS)
def test_legacy_layout_structure(db, schema):
    names = table_names(db, schema)
    assert {"grp_cons", "grp_con_avatar_turns", "grp_con_avatar_turn_relationships", "grp_con_avatars",
            "grp_con_uploads", "grp_con_upload_vectors", "participant_groups", "avatars"} <= names
    assert "topic_paths" not in names and "file_uploads" not in names
    turns = columns(db, schema, "grp_con_avatar_turns")
    assert "participant_id" not in turns and "llm_id" not in turns
    assert turns["turn_index"] == ("numeric(10,2)", False)
    assert turns["grp_con_id"] == ("bigint", False) and turns["avatar_id"] == ("bigint", False)
    assert turns["content_vector"] == ("vector(1536)", True)
    for table in ("grp_con_avatar_turns", "grp_con_uploads", "grp_con_upload_vectors",
                  "grp_con_avatar_turn_relationships"):
        assert constraints(db, schema, table, "f") == [], table
    assert columns(db, schema, "participant_groups")["role"] == ("text", True)
    assert "participant_role_id" not in columns(db, schema, "participant_groups")
    parent_target = "bsa" if schema == "conflict_club" else schema
    assert rows(db, """
        select confrelid::regclass::text from pg_constraint
        where conrelid = format('%%I.grp_cons', %s::text)::regclass and contype = 'f'""", schema) == [
        (f"{parent_target}.grp_cons",)]
    assert ("group_type_id" in columns(db, schema, "groups")) == (schema != "conflict_club")


def test_template_has_structure_only(db, manifest):
    assert table_names(db, "template") == table_names(db, "dev") - {"clients", "client_schemas",
                                                                    "client_schema_preferences"}
    assert manifest["schemas"]["template"]["layout"] == "template"
    for table in table_names(db, "template"):
        assert rows(db, sql.SQL("select count(*) from {}").format(sql.Identifier("template", table)))[0][0] == 0


@pytest.mark.parametrize("name", ["Acme-Corp", "o'brien"])
@pytest.mark.parametrize("layout", ["topic", "legacy"])
def test_create_tenant_schema_quotes_names(db, name, layout):
    schema = f"{name}_{layout}"
    create_tenant_schema(db, schema, layout)
    try:
        marker = "topic_paths" if layout == "topic" else "grp_cons"
        assert marker in table_names(db, schema)
        assert TURNS[layout] in table_names(db, schema)
        if layout == "legacy":  # its parent key points into itself
            assert rows(db, "select confrelid = conrelid from pg_constraint where contype = 'f'"
                            " and conrelid = format('%%I.grp_cons', %s::text)::regclass", schema) == [(True,)]
    finally:
        db.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))


def test_create_tenant_schema_rejects_unknown_layout(db):
    with pytest.raises(ValueError, match="unknown layout"):
        create_tenant_schema(db, "nope", "flat")


# -- manifest against the database ---------------------------------------------------------------------


def test_manifest_counts_equal_the_database(db, manifest):
    assert manifest["seed"] == 7 and manifest["scale"] == 0.1
    assert set(manifest["schemas"]) == {"public", *TENANT_SCHEMAS, "template"}
    for schema, entry in manifest["schemas"].items():
        assert set(entry["tables"]) == table_names(db, schema), schema
        for table, count in entry["tables"].items():
            actual = rows(db, sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table)))[0][0]
            assert actual == count, f"{schema}.{table}"
    turns = sum(manifest["schemas"][s]["tables"][TURNS[layout_of(s)]] for s in TENANT_SCHEMAS)
    assert 1500 < turns < 3000  # scale 0.1 of ~20,000, with the per-schema floors


def test_passwords_have_every_shape_and_verify(db, manifest):
    stored = dict(rows(db, "select id, password from public.participants"))
    entries = manifest["passwords"]
    assert {e["participant_id"] for e in entries} == set(stored)
    assert {e["shape"] for e in entries} == {"bcrypt_2b", "bcrypt_2a", "double_bcrypt", "plaintext",
                                             "plaintext_hashedpass", "empty"}
    checked = set()
    for entry in entries:
        value = stored[entry["participant_id"]]
        shape, plaintext = entry["shape"], entry["plaintext"]
        if shape in ("bcrypt_2b", "bcrypt_2a"):
            assert value.startswith("$2b$10$" if shape == "bcrypt_2b" else "$2a$10$")
            if value not in checked:  # hashes are shared: verify each once (cost 10 is slow)
                assert bcrypt.checkpw(plaintext.encode(), value.encode())
                checked.add(value)
        elif shape == "double_bcrypt":
            assert value.startswith("$2b$10$") and len(value) == 60
            if value not in checked:
                assert not bcrypt.checkpw(plaintext.encode(), value.encode())
                checked.add(value)
        elif shape == "plaintext_hashedpass":
            assert value == plaintext == "hashedpass"
        else:
            assert value == plaintext and (value == "") == (shape == "empty")


def test_secrets_are_where_the_spec_says(db, manifest):
    secrets = set(manifest["secrets"])
    assert {r[0] for r in rows(db, "select api_key from public.llms")} <= secrets
    # every value under a secret-like key, at any depth, in any tenant's llm_config or public jsonb
    sources = [f"select llm_config from {sql.Identifier(s, 'avatars').as_string(db)}" for s in TENANT_SCHEMAS]
    sources += ["select additional_config from public.llms", "select details from public.participant_event_logs"]
    found = set()
    for source in sources:
        for (value,) in rows(db, f"""
                with recursive walk (key, value) as (
                    select null::text, doc from ({source}) as x (doc) where doc is not null
                    union all
                    select coalesce(o.key, walk.key), coalesce(o.value, a.value)
                    from walk
                    left join lateral jsonb_each(case jsonb_typeof(walk.value) when 'object' then walk.value end)
                        as o on true
                    left join lateral jsonb_array_elements(
                        case jsonb_typeof(walk.value) when 'array' then walk.value end) as a on true
                    where o.key is not null or a.value is not null
                )
                select value #>> '{{}}' from walk
                where jsonb_typeof(value) = 'string' and key = any(%s)""", list(SECRET_KEYS)):
            found.add(value)
    assert found and found <= secrets
    nested = [v for v in found if v.startswith(("tok_", "whsec_", "gsk_", "proxy-token-", "typed-pw-"))]
    assert nested, "secrets nested below the top level of a jsonb document"
    # every secret the manifest lists is really written somewhere
    haystack = "\n".join(r[0] or "" for r in rows(db, """
        select api_key || ' ' || coalesce(additional_config::text, '') from public.llms
        union all select details::text from public.participant_event_logs
        union all select sid from public.session
        union all select password from public.participants""" + "".join(
        f" union all select llm_config::text from {sql.Identifier(s, 'avatars').as_string(db)}" for s in TENANT_SCHEMAS)))
    missing = [s for s in secrets if s not in haystack]
    assert not missing
    assert {"hashedpass"} <= secrets and "" not in secrets


def footprints(conn, schema: str) -> list[int]:
    """The spec's membership rule, applied to the database."""
    s = sql.Identifier(schema).as_string(conn)
    parts = [f"select participant_id::bigint from {s}.{t}" for t in (
        "participant_groups", "participant_avatars", "participant_llms", "participant_preferences",
        "participant_events")]
    parts.append(f"select created_by_participant_id from {s}.grp_templates")
    if layout_of(schema) == "topic":
        parts += [f"select participant_id from {s}.grp_topic_avatar_turns", f"select created_by from {s}.topic_paths"]
    parts.append("select l.participant_id from public.participant_event_logs l join public.schemas x"
                 f" on x.id = l.schema_id where x.name = '{schema}'")
    return [r[0] for r in rows(conn, "select id from public.participants where id in ("
                               + " union ".join(parts) + ") order by id")]


def test_memberships_equal_footprints(db, manifest):
    for schema in TENANT_SCHEMAS:
        assert footprints(db, schema) == manifest["memberships"][schema], schema


def test_membership_footprint_of_every_kind(db, manifest):
    only = manifest["quirks"]["footprint_only"]
    assert set(only) == {"participant_groups", "participant_avatars", "participant_llms", "participant_preferences",
                         "participant_events", "turn", "topic_created_by", "template_created_by", "event_log"}
    queries = {
        "participant_groups": "select participant_id from {s}.participant_groups",
        "participant_avatars": "select participant_id from {s}.participant_avatars",
        "participant_llms": "select participant_id from {s}.participant_llms",
        "participant_preferences": "select participant_id from {s}.participant_preferences",
        "participant_events": "select participant_id from {s}.participant_events",
        "turn": "select participant_id from {s}.grp_topic_avatar_turns",
        "topic_created_by": "select created_by from {s}.topic_paths",
        "template_created_by": "select created_by_participant_id from {s}.grp_templates",
        "event_log": "select participant_id from public.participant_event_logs l join public.schemas x"
                     " on x.id = l.schema_id where x.name = '{name}'",
    }
    for kind, planted in only.items():
        schema, pid = planted["schema"], planted["participant_id"]
        assert [m for m in manifest["memberships"] if pid in manifest["memberships"][m]] == [schema]
        holders = {kind_name for kind_name, query in queries.items()
                   if (kind_name not in ("turn", "topic_created_by") or layout_of(schema) == "topic")
                   and pid in {r[0] for r in rows(db, query.format(s=sql.Identifier(schema).as_string(db),
                                                                   name=schema))}}
        assert holders == {kind}, (kind, holders)


def test_people_quirks(db, manifest):
    quirks, members = manifest["quirks"], manifest["memberships"]
    emails = dict(rows(db, "select id, email from public.participants"))
    created = dict(rows(db, "select id, created_at from public.participants"))
    assert quirks["case_duplicate_emails"]
    for pair in quirks["case_duplicate_emails"]:
        older, newer = pair["participant_ids"]
        assert emails[older] != emails[newer] and emails[older].lower() == emails[newer].lower()
        assert created[older] < created[newer]
        for schema in pair["schemas"]:
            assert older in members[schema] and newer in members[schema]
    assert quirks["people_in_no_client"]
    everyone_with_footprint = {pid for schema in TENANT_SCHEMAS for pid in footprints(db, schema)}
    assert set(quirks["people_in_no_client"]) == set(emails) - everyone_with_footprint
    multi = [pid for pid in emails if sum(pid in footprints(db, s) for s in TENANT_SCHEMAS) > 1]
    assert sorted(multi) == quirks["multi_client_people"] and multi


def topic_turn_ids(db, schema: str, where: str) -> list[int]:
    s = sql.Identifier(schema).as_string(db)
    return [r[0] for r in rows(db, f"select t.id from {s}.{TURNS[layout_of(schema)]} as t where {where} order by t.id"
                                   .replace("{s}", s))]


def test_turns_whose_topic_or_speaker_is_missing(db, manifest):
    q = manifest["quirks"]
    assert topic_turn_ids(db, "dev", "t.topic_id not in (select id from {s}.topic_paths)") == q[
        "missing_topic_turns"]["dev"]
    assert topic_turn_ids(db, "first_congregational", "t.topicpathid not in (select index from {s}.topic_paths)") == q[
        "missing_topic_turns"]["first_congregational"]
    for schema in LEGACY_SCHEMAS:
        assert topic_turn_ids(db, schema, "t.grp_con_id not in (select id from {s}.grp_cons)") == q[
            "missing_topic_turns"][schema]
    for schema in TOPIC_SCHEMAS:
        assert topic_turn_ids(db, schema, "t.message_type_id = 1 and t.turn_kind_id = 1 and t.participant_id not in"
                                          " (select id from public.participants)") == q["missing_speaker_turns"][schema]
    for schema in LEGACY_SCHEMAS:
        assert topic_turn_ids(db, schema, "t.message_type_id = 1 and t.turn_kind_id = 1 and t.avatar_id not in"
                                          " (select avatar_id from {s}.participant_avatars)") == q[
            "unowned_avatar_turns"][schema]


def test_comments_indexes_and_speaker_columns(db, manifest):
    q = manifest["quirks"]
    for schema in TENANT_SCHEMAS:
        table = f"{sql.Identifier(schema).as_string(db)}.{TURNS[layout_of(schema)]}"
        topic = {"dev": "topic_id", "first_congregational": "topicpathid"}.get(schema, "grp_con_id")
        comments = rows(db, f"select count(*), count(*) filter (where message_type_id = 1 and content_vector is null"
                            f" and turn_index <> trunc(turn_index)) from {table} where turn_kind_id = 3")[0]
        assert comments[0] == comments[1] == q["comment_turns"][schema]
        repeated = [r[0] for r in rows(db, f"""
            select max(id) from {table} where turn_kind_id <> 3
            group by {topic}, turn_index having count(*) > 1 order by 1""")]
        assert repeated == q["repeated_turn_index"][schema] and repeated
        if layout_of(schema) == "topic":
            by_avatar = topic_turn_ids(db, schema, "t.turn_kind_id = 3 and t.participant_id in"
                                                   " (select id from {s}.avatars)")
            assert by_avatar == q["comments_with_avatar_id"][schema] and by_avatar
            bug = topic_turn_ids(db, schema, "t.message_type_id = 2 and t.llm_id in (select id from public.participants)")
            assert bug == q["llm_id_holds_participant"][schema] and bug
            assert rows(db, f"select count(*) from {table} where message_type_id = 2 and llm_id not in"
                            " (select id from public.llms) and llm_id not in (select id from public.participants)"
                        ) == [(0,)]
        else:  # assistant turns carry an LLM id in avatar_id; user turns a member's own avatar
            assert rows(db, f"select count(*), count(*) filter (where avatar_id in (select id from public.llms))"
                            f" from {table} where message_type_id = 2")[0] == (
                q["legacy_assistant_llm_avatar_turns"][schema],) * 2
            owned = rows(db, f"""select count(*) from {table} t where message_type_id = 1 and turn_kind_id = 1
                and avatar_id in (select avatar_id from {sql.Identifier(schema).as_string(db)}.participant_avatars)""")
            assert owned[0][0] > 0


def test_vectors(db, manifest):
    zero = "vector_norm(t.content_vector) = 0"
    for schema in TOPIC_SCHEMAS:
        assert topic_turn_ids(db, schema, zero) == manifest["quirks"]["zero_vector_turns"][schema]
        # real embeddings are not periodic, unlike the legacy placeholders
        assert rows(db, f"""select bool_and((content_vector::real[])[1:16] = (content_vector::real[])[17:32])
            from {sql.Identifier(schema).as_string(db)}.grp_topic_avatar_turns t
            where content_vector is not null and not {zero}""") == [(False,)]
    for schema in LEGACY_SCHEMAS:
        placeholders = rows(db, f"""
            select count(*), count(*) filter (where (content_vector::real[])[1:16] = (content_vector::real[])[1521:1536])
            from {sql.Identifier(schema).as_string(db)}.grp_con_avatar_turns where content_vector is not null""")[0]
        assert placeholders[0] > 0 and placeholders[0] == placeholders[1]
    assert rows(db, "select count(*) from dev.grp_topic_avatar_turns where turn_kind_id <> 3"
                    " and content_vector is null") == [(0,)]


def test_text_quirks(db, manifest):
    q, markers = manifest["quirks"], manifest["content_markers"]
    large = q["large_turns"][0]
    assert rows(db, "select octet_length(content_text) from dev.grp_topic_avatar_turns where id = %s",
                large["id"]) == [(large["bytes"],)]
    assert large["bytes"] > 1024 * 1024
    for schema in TENANT_SCHEMAS:
        table = f"{sql.Identifier(schema).as_string(db)}.{TURNS[layout_of(schema)]}"
        assert topic_turn_ids(db, schema, "position(%s in t.content_text) > 0".replace("%s", "'" + markers[
            "non_ascii"].replace("'", "''") + "'")) == q["non_ascii_turns"][schema]
        sql_like = [r[0] for r in rows(db, f"select id from {table} where strpos(content_text, %s) > 0 order by id",
                                       markers["sql_like"])]
        assert sql_like == q["sql_like_turns"][schema]
        assert rows(db, f"select count(*) from {table} where content_text ~ '[^\\x01-\\x7f]'")[0][0] > 0
    assert rows(db, "select count(*) from public.participants where name ~ '[^\\x01-\\x7f]'")[0][0] > 0


def test_conversations_read_like_conversations(db):
    """User turns ask, assistants answer, and each topic's turns use its own subtopic's vocabulary."""
    from backstage_simulator.content import THEMES

    words = {sub.label.lower(): sub.words for theme in THEMES for sub in theme.subtopics}
    asked = rows(db, """select count(*), count(*) filter (where content_text like '%?%')
                        from dev.grp_topic_avatar_turns where message_type_id = 1 and turn_kind_id = 1
                        and content_text not like 'File uploaded:%'""")[0]
    assert asked[1] > 0.9 * asked[0]
    topics = rows(db, """
        select p.path::text, string_agg(t.content_text, ' ')
        from dev.topic_paths p join dev.grp_topic_avatar_turns t on t.topic_id = p.id
        where nlevel(p.path) = 3 and octet_length(t.content_text) < 100000 group by p.path""")
    assert len(topics) > 5
    for path, text in topics:
        own = words[path.split(".")[1].lower()]
        others = {w for label, ws in words.items() if label != path.split(".")[1].lower() for w in ws} - set(own)
        own_hits = sum(text.count(w) for w in own)
        assert own_hits > 0 and own_hits >= sum(text.count(w) for w in others), path


def test_topic_path_quirks(db, manifest):
    q = manifest["quirks"]
    for schema in TOPIC_SCHEMAS:
        s = sql.Identifier(schema).as_string(db)
        paths = [r[0] for r in rows(db, f"select path::text from {s}.topic_paths")]
        assert any("-" in p for p in paths) and any("_" in p for p in paths)
        indexes = {r[0] for r in rows(db, f"select index from {s}.topic_paths")}
        assert {"1_0", "1_01"} <= indexes
        assert sorted(i for i in indexes if "_" in i) == sorted(q["odd_topic_indexes"][schema])
        missing_parent = [r[0] for r in rows(db, f"""
            select t.id from {s}.topic_paths t where nlevel(t.path) > 1
            and not exists (select 1 from {s}.topic_paths p where p.path = subpath(t.path, 0, nlevel(t.path) - 1))
            order by t.id""")]
        assert missing_parent == q["missing_parent_topics"][schema]
        existing_parent = rows(db, f"""select count(*) from {s}.topic_paths t join {s}.topic_paths p
            on p.path = subpath(t.path, 0, nlevel(t.path) - 1) where nlevel(t.path) > 1""")[0][0]
        assert existing_parent > 0
        twins = rows(db, f"""select json_build_array(a.path::text, b.path::text) from {s}.topic_paths a
            join {s}.topic_paths b on lower(a.path::text) = b.path::text and a.path <> b.path
            where a.path::text <> lower(a.path::text) and b.id > a.id""")
        assert [r[0] for r in twins] == q["case_variant_paths"][schema]
    topic_ids = [r[0] for r in rows(db, "select id from dev.topic_paths union all"
                                        " select id from first_congregational.topic_paths")]
    assert len(topic_ids) == len(set(topic_ids))  # one shared sequence
    assert rows(db, "select nextval('public.topic_paths_numeric_id_seq') > %s", max(topic_ids)) == [(True,)]


def test_cross_tenant_parent(db, manifest):
    crossing = [r[0] for r in rows(db, """
        select c.id from conflict_club.grp_cons c
        where c.parent_grp_con_id is not null
          and not exists (select 1 from conflict_club.grp_cons p where p.id = c.parent_grp_con_id)
          and exists (select 1 from bsa.grp_cons p where p.id = c.parent_grp_con_id) order by 1""")]
    assert crossing == manifest["quirks"]["cross_tenant_parents"]["conflict_club"] and crossing
    assert rows(db, "select count(*) from bsa.grp_cons where parent_grp_con_id is not null")[0][0] > 0


UPLOAD_NOTICE = re.compile(r"^File uploaded: (.+) \(ID: (\d+)\)$")


def test_file_uploads(db, manifest):
    q = manifest["quirks"]
    for schema in TENANT_SCHEMAS:
        s = sql.Identifier(schema).as_string(db)
        table = f"{s}.{TURNS[layout_of(schema)]}"
        notices = rows(db, f"select id, content_text from {table} where content_text like 'File uploaded: %%'"
                           " and message_type_id = 1 order by id")
        assert [r[0] for r in notices] == q["upload_notice_turns"][schema] and notices
        for turn_id, text in notices:
            filename, upload_id = UPLOAD_NOTICE.match(text).groups()
            if layout_of(schema) == "topic":
                found = rows(db, f"select filename, bucket_name from {s}.file_uploads where id = %s", int(upload_id))
            else:
                found = rows(db, f"select filename, bucket_name from {s}.grp_con_uploads where id = %s and turn_id = %s"
                                 " union all select filename, bucket_name from public.file_uploads where id = %s",
                             int(upload_id), turn_id, int(upload_id))
            assert (filename, schema) in found, text
    for key, pairs in q["two_row_uploads"].items():
        table = "public.file_uploads" if key == "public" else f"{key.split('.')[0]}.file_uploads"
        for temp_id, storage_id in pairs:
            temp, storage = (rows(db, f"select filename, file_path from {table} where id = %s", i)[0]
                             for i in (temp_id, storage_id))
            assert temp[0] == storage[0] and temp[1].startswith("/tmp/") and not storage[1].startswith("/tmp/")
    assert "dev.tenant" in q["two_row_uploads"] and "public" in q["two_row_uploads"]
    # chunks: 1000 characters each except the last; together exactly the file
    for table, upload in (("dev.file_upload_vectors", "file_upload_id"), ("public.file_upload_vectors", "file_upload_id"),
                          ("bsa.grp_con_upload_vectors", "upload_id")):
        chunked = rows(db, f"""select {upload}, count(*), max(chunk_index) + 1, sum(length(content_text)),
                                      bool_and(length(content_text) = 1000 or chunk_index = (
                                          select max(chunk_index) from {table} o where o.{upload} = v.{upload}))
                               from {table} v group by {upload}""")
        assert chunked and all(n == top and ok for _, n, top, _, ok in chunked), table
    sizes = rows(db, """select bool_and(f.file_size = x.chars) from public.file_uploads f
        join (select file_upload_id, sum(length(content_text)) chars from public.file_upload_vectors group by 1) x
        on x.file_upload_id = f.id""")
    assert sizes == [(True,)]


def test_public_uploads_attribution(db, manifest):
    q = manifest["quirks"]
    by_bucket: dict[str, list[int]] = {}
    for upload_id, bucket in rows(db, "select id, bucket_name from public.file_uploads where bucket_name in"
                                      " (select name from public.schemas where name <> 'public') order by id"):
        by_bucket.setdefault(bucket, []).append(upload_id)
    assert by_bucket == q["public_uploads_by_bucket_schema"]
    assert set(by_bucket) >= {"bsa", "conflict_club", "timethatremains"}
    unattributable = [r[0] for r in rows(db, "select id from public.file_uploads where bucket_name is null or"
                                             " bucket_name not in (select name from public.schemas) order by id")]
    assert unattributable == q["unattributable_public_uploads"] and unattributable


def test_event_logs(db, manifest):
    logs = manifest["quirks"]["event_logs"]
    null_ids = [r[0] for r in rows(db, "select id from public.participant_event_logs where schema_id is null"
                                       " and participant_id is not null order by id")]
    assert null_ids == logs["schema_null"] and null_ids
    public_ids = [r[0] for r in rows(db, "select l.id from public.participant_event_logs l join public.schemas s"
                                         " on s.id = l.schema_id where s.name = 'public' order by l.id")]
    assert public_ids == logs["schema_public"] and public_ids
    assert rows(db, "select count(*) from public.participant_event_logs l join public.schemas s on s.id = l.schema_id"
                    " where s.name <> 'public'")[0][0] > 0
    strangers = [r[0] for r in rows(db, """
        select coalesce(details->>'email', details#>>'{attempt,email}') from public.participant_event_logs
        where participant_id is null order by id""")]
    assert strangers == logs["unknown_emails"]
    assert not set(strangers) & {r[0] for r in rows(db, "select email from public.participants")}
    assert rows(db, "select count(*) from dev.participant_events")[0][0] > 0


def test_session_and_dev_client_tables(db):
    assert rows(db, "select count(*) > 0 from public.session") == [(True,)]
    assert {r[0] for r in rows(db, "select schema_name from dev.client_schemas")} == set(TENANT_SCHEMAS)


def test_sequences_continue_after_the_data(db):
    assert rows(db, "select nextval('dev.grp_topic_avatar_turns_id_seq') > (select max(id)"
                    " from dev.grp_topic_avatar_turns)") == [(True,)]
    assert rows(db, "select nextval('public.participants_id_seq') > (select max(id) from public.participants)") == [
        (True,)]


# -- database handling, determinism, CLI, scale ------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_data(built):
    name, _ = built
    again = f"sim_test_again_{int(time.time() * 1000) % 10**8}"
    try:
        simulate(again, scale=0.1, seed=7)
        first, second = fingerprint(name), fingerprint(again)
        assert first == second
        simulate(again, scale=0.1, seed=8)  # the marked database is dropped and rebuilt
        third = fingerprint(again)
        changed = [t for t in first if first[t] != third[t]]
        assert "public.participants" in changed and "dev.grp_topic_avatar_turns" in changed
    finally:
        drop(again)


def test_foreign_database_is_not_dropped(make_database):
    name = make_database("simforeign")
    with database.connect(name) as conn:
        conn.execute("create table precious (id int)")
    with pytest.raises(SimulatorError, match="not made by the simulator"):
        simulate(name, scale=0.05)
    with database.connect(name) as conn:
        assert conn.execute("select count(*) from precious").fetchone() == (0,)
    with database.connect("postgres") as conn:
        assert conn.execute("select shobj_description(oid, 'pg_database') from pg_database where datname = %s",
                            (name,)).fetchone() == (None,)


def test_cli_prints_the_manifest(capsys):
    name = f"sim_test_cli_{int(time.time() * 1000) % 10**8}"
    try:
        assert main(["simulate", "--scale", "0.05", "--seed", "3", "--database", name]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed["database"] == name and printed["seed"] == 3 and printed["scale"] == 0.05
        with database.connect("postgres") as conn:
            assert conn.execute("select shobj_description(oid, 'pg_database') from pg_database where datname = %s",
                                (name,)).fetchone() == (MARK,)
    finally:
        drop(name)


def test_plan_grows_linearly():
    small, large = make_plan(2, 1), make_plan(20, 1)
    for a, b in zip(small.schemas, large.schemas):
        assert abs(b.units / a.units - 10) < 0.2
    assert large.people == 10 * small.people
    with pytest.raises(ValueError):
        make_plan(0, 1)


@pytest.mark.slow
def test_scale_one_holds_about_twenty_thousand_turns():
    """Volume and size at scale 1; build time is measured by `cogito-migrate benchmark`, not asserted here."""
    name = f"sim_test_scale1_{int(time.time() * 1000) % 10**8}"
    try:
        result = simulate(name, scale=1, seed=42)
        with database.connect(name) as conn:
            size = conn.execute("select pg_database_size(current_database())").fetchone()[0]
        turns = sum(result["schemas"][s]["tables"][TURNS[layout_of(s)]] for s in TENANT_SCHEMAS)
        assert 18_000 < turns < 22_000
        assert size < 400 * 2**20
    finally:
        drop(name)


def test_extra_tenants_are_deterministic_registered_and_counted(make_database):
    """`simulate --extra-tenants`: the same seed gives the same small tenants, each one registered in public.schemas,
    its topic ids new from the shared sequence, and its manifest counts those of its tables."""
    first, second = make_database("sim_extra"), make_database("sim_extra")
    manifest = simulate(first, scale=0.02, seed=7, extra_tenants=4)
    simulate(second, scale=0.02, seed=7, extra_tenants=4)
    extra = manifest["extra_tenants"]
    assert extra == ["tenant_0001", "tenant_0002", "tenant_0003", "tenant_0004"]
    prints = fingerprint(first)
    assert {t: h for t, h in prints.items() if t.startswith("tenant_")} == {
        t: h for t, h in fingerprint(second).items() if t.startswith("tenant_")}
    with database.connect(first) as conn:
        assert {name for (name,) in rows(conn, "select name from public.schemas")} >= set(extra)
        (topic_ids, distinct_ids), = rows(conn, "select count(*), count(distinct id) from (select id from"
                                                " dev.topic_paths union all select id from first_congregational"
                                                ".topic_paths union all select id from tenant_0001.topic_paths union"
                                                " all select id from tenant_0003.topic_paths) as t")
        assert topic_ids == distinct_ids
        for schema in extra:
            entry = manifest["schemas"][schema]
            assert entry["layout"] == ("topic" if schema in ("tenant_0001", "tenant_0003") else "legacy")
            assert entry["tables"][TURNS[entry["layout"]]] > 0
            for table, count in entry["tables"].items():
                assert rows(conn, sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))) == [
                    (count,)], (schema, table)
