"""The SQL macro `cogito_uuid` and `cogito_migrate.ids.cogito_uuid` give the same RFC 9562 v3 uuids on the real
server."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

import pytest

from cogito_migrate import database, ids
from cogito_migrate.dbt import DbtResult, run_dbt

# Schema names as Backstage could hold them, including non-ASCII ones (hashed as UTF-8 on both sides).
SCHEMAS = ["public", "dev", "bsa", "conflict_club", "first_congregational", "café_ñandú", "мир", "日本語", "emoji_🎭"]
ENTITIES = ["user", "participant", "block", "turn", "file_upload", "file_chunk", "event"]
TABLES = ["participants", "grp_topic_avatar_turns", "grp_con_avatar_turns", "file_uploads", "topic_paths"]
CLIENTS = [None, 101, 105, 2147483647]
# Small, big (bigint limits) and awkward ids; 40 of them so the product passes 10,000 keys.
SOURCE_IDS = [0, 1, 2, 7, 10, 99, 100, 101, -1, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63)] + list(
    range(1_000_000, 1_000_026)
)


@pytest.fixture(scope="module")
def macro_project(tmp_path_factory) -> Path:
    """A dbt project holding only macros/ids, so these tests see the macro alone (not models in progress)."""
    root = tmp_path_factory.mktemp("ids_project")
    (root / "dbt_project.yml").write_text(
        "name: cogito_ids_check\nversion: '1.0'\nconfig-version: 2\nprofile: cogito\nmacro-paths: ['macros']\n"
    )
    (root / "macros").symlink_to(database.PROJECT_ROOT / "macros" / "ids", target_is_directory=True)
    return root


def render(macro_project: Path, database_name: str, jinja: str, check: bool = True) -> DbtResult:
    """dbt's rendering of an inline Jinja query: exactly what a model using the macros would run."""
    result = run_dbt(
        "compile", "--quiet", "--inline", jinja,
        database_name=database_name, project_dir=macro_project, target_path=macro_project / "target", capture=True,
    )
    if check:
        assert result.returncode == 0, result.stdout[-3000:]
    return result


@pytest.fixture
def compile_sql(macro_project):
    return lambda database_name, jinja: render(macro_project, database_name, jinja).stdout.strip()


@pytest.fixture(scope="module")
def id_database(make_database) -> str:
    name = make_database("run_ids")
    with database.connect(name) as conn:
        conn.execute(
            "create table id_cases (case_id int primary key, client_id int, entity text, schema_name text, "
            "table_name text, source_id bigint)"
        )
        rows = [
            (n, client, entity, schema, table, source_id)
            for n, (client, entity, schema, table, source_id) in enumerate(
                itertools.product(CLIENTS, ENTITIES[:3], SCHEMAS, TABLES[:2], SOURCE_IDS)
            )
        ]
        # The product above is 4*3*9*2*40 = 8,640 keys; add every entity/table pair for one client/schema.
        extra = itertools.product([101], ENTITIES[3:], ["dev", "мир"], TABLES, SOURCE_IDS)
        rows += [(len(rows) + n, *values) for n, values in enumerate(extra)]
        with conn.cursor() as cursor, cursor.copy(
            "copy id_cases (case_id, client_id, entity, schema_name, table_name, source_id) from stdin"
        ) as copy:
            for row in rows:
                copy.write_row(row)
    return name


def test_sql_and_python_agree_on_at_least_10000_keys(id_database, compile_sql, connect):
    query = compile_sql(
        id_database,
        "select case_id, client_id, entity, schema_name, table_name, source_id, "
        "{{ cogito_uuid_from_parts('client_id', 'entity', 'schema_name', 'table_name', 'source_id') }} as id, "
        "{{ cogito_uuid_key_from_parts('client_id', 'entity', 'schema_name', 'table_name', 'source_id') }} as key "
        "from id_cases",
    )
    with connect(id_database) as conn:
        rows = conn.execute(query).fetchall()
    assert len(rows) >= 10_000
    for case_id, client_id, entity, schema, table, source_id, sql_id, sql_key in rows:
        assert sql_key == ids.cogito_uuid_key(client_id, entity, schema, table, source_id), case_id
        assert sql_id == ids.cogito_uuid(client_id, entity, schema, table, source_id), (case_id, sql_key)
        assert sql_id.version == 3 and sql_id.variant == uuid.RFC_4122
    # Distinct keys give distinct ids.
    assert len({row[6] for row in rows}) == len(rows)
    assert any(not row[3].isascii() for row in rows) and any(row[5] == 2**63 - 1 for row in rows)


def test_usual_form_quotes_entity_and_table_and_is_deterministic(id_database, compile_sql, connect):
    query = compile_sql(
        id_database,
        "select case_id, {{ cogito_uuid('client_id', 'turn', 'schema_name', 'grp_topic_avatar_turns', 'source_id') }} "
        "from id_cases order by case_id",
    )
    with connect(id_database) as conn:
        first = conn.execute(query).fetchall()
        second = conn.execute(query).fetchall()
        cases = dict(
            (row[0], row[1:])
            for row in conn.execute("select case_id, client_id, schema_name, source_id from id_cases").fetchall()
        )
    assert first == second
    for case_id, sql_id in first:
        client_id, schema, source_id = cases[case_id]
        assert sql_id == ids.cogito_uuid(client_id, "turn", schema, "grp_topic_avatar_turns", source_id)


def test_known_vector_and_shared_namespace(id_database, compile_sql, connect):
    namespace = compile_sql(id_database, "select '{{ cogito_uuid_namespace() }}'")
    assert namespace == f"select '{ids.NAMESPACE}'"
    expected = uuid.uuid3(ids.NAMESPACE, "101/turn/dev/grp_topic_avatar_turns/42")
    assert ids.cogito_uuid(101, "turn", "dev", "grp_topic_avatar_turns", 42) == expected
    query = compile_sql(id_database, "select {{ cogito_uuid('101', 'turn', \"'dev'\", 'grp_topic_avatar_turns', '42') }}")
    with connect(id_database) as conn:
        assert conn.execute(query).fetchone()[0] == expected


def test_null_client_renders_empty_and_null_source_id_gives_null(id_database, compile_sql, connect):
    assert ids.cogito_uuid_key(None, "participant", "public", "participants", 7) == "/participant/public/participants/7"
    query = compile_sql(
        id_database,
        "select {{ cogito_uuid('null::int', 'participant', \"'public'\", 'participants', '7') }}, "
        "{{ cogito_uuid('101', 'participant', \"'public'\", 'participants', 'null::bigint') }}, "
        "{{ cogito_uuid('101', 'participant_group', \"'dev'\", 'participant_groups', \"3 || ':' || 12\") }}",
    )
    with connect(id_database) as conn:
        null_client, null_source, composite = conn.execute(query).fetchone()
    assert null_client == ids.cogito_uuid(None, "participant", "public", "participants", 7)
    assert null_source is None
    assert composite == ids.cogito_uuid(101, "participant_group", "dev", "participant_groups", "3:12")
    with pytest.raises(ValueError):
        ids.cogito_uuid(101, "participant", "public", "participants", None)
    with pytest.raises(TypeError):
        ids.cogito_uuid(101, "participant", "public", "participants", 7.0)


def test_entity_that_is_not_a_plain_name_is_a_compile_error(id_database, macro_project):
    jinja = "select {{ cogito_uuid('1', \"'turn'\", \"'dev'\", 'grp_topic_avatar_turns', '1') }}"
    result = render(macro_project, id_database, jinja, check=False)
    assert result.returncode != 0
    assert "entity must be a plain lowercase name" in result.stdout
