"""End to end: a small simulated Backstage, `dbt seed`, the password step, `dbt build`, and the Cogito contract.

One simulated database serves every test of the module (building it takes about half a minute); the
manifest the simulator returns is the ground truth the tests compare against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from conftest import Migrated
from psycopg import sql
from psycopg.types.json import Jsonb

from cogito_migrate import database

SCALE = 0.05
SEED = 11
TARGET_SCHEMAS = ("client_mgmt", "conversation", "files", "events")
BOOKKEEPING_SCHEMAS = ("migration",)
MART_TABLES = (
    "client_mgmt.clients",
    "client_mgmt.users",
    "conversation.participants",
    "conversation.blocks",
    "conversation.turns",
    "conversation.block_turns",
    "files.file_uploads",
    "files.file_upload_vectors",
    "events.participant_events",
    "migration.migration_id_map",
)
TURN_TABLES = {"topic": "grp_topic_avatar_turns", "legacy": "grp_con_avatar_turns"}
APPLICATION_QUERY = """
    select t.*
    from conversation.turns t
    join conversation.block_turns bt on t.turn_id = bt.turn_id
    join conversation.blocks b on bt.block_id = b.block_id
    where b.metadata->>'client_id' = %s and b.metadata->>'original_topic_path' = %s
    order by bt.sequence_order
"""


@pytest.fixture(scope="module")
def migrated(simulate_and_migrate) -> Migrated:
    return simulate_and_migrate("mart", SCALE, SEED)


@pytest.fixture(scope="module")
def conn(migrated) -> Iterator[psycopg.Connection]:
    with database.connect(migrated.name) as connection:
        yield connection


def client_ids(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("select metadata->>'backstage_schema', id from client_mgmt.clients").fetchall()
    return dict(rows)


def tenant_layouts(manifest: dict[str, Any]) -> dict[str, str]:
    return {
        schema: entry["layout"]
        for schema, entry in manifest["schemas"].items()
        if entry["layout"] in ("topic", "legacy")
    }


def mart_counts(conn: psycopg.Connection) -> dict[str, int]:
    return {table: conn.execute(f"select count(*) from {table}").fetchone()[0] for table in MART_TABLES}


def test_every_source_turn_lands_once_with_identical_content(conn, migrated):
    for schema, layout in tenant_layouts(migrated.manifest).items():
        table = TURN_TABLES[layout]
        source = dict(
            conn.execute(
                sql.SQL("select id, content_text from {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchall()
        )
        assert len(source) == migrated.manifest["schemas"][schema]["tables"][table]
        landed = conn.execute(
            "select source_turn_id, content from conversation.turns where source_turn_id like %s",
            (f"{schema}.{table}.%",),
        ).fetchall()
        by_id = {int(source_turn_id.rsplit(".", 1)[1]): content for source_turn_id, content in landed}
        assert len(by_id) == len(landed) == len(source), schema
        for turn_id, text in source.items():
            assert by_id[turn_id].encode("utf-8") == text.encode("utf-8"), f"{schema}.{table}.{turn_id}"


def test_every_turn_sits_once_in_one_block_of_its_own_client(conn):
    rows = conn.execute(
        """
        select count(*), count(distinct bt.turn_id), count(*) filter (where b.client_id <> t.client_id)
        from conversation.turns t
        join conversation.block_turns bt on t.turn_id = bt.turn_id
        join conversation.blocks b on bt.block_id = b.block_id
        """
    ).fetchone()
    total = conn.execute("select count(*) from conversation.turns").fetchone()[0]
    assert rows == (total, total, 0)


def expected_topic_order(conn: psycopg.Connection, schema: str) -> dict[str, list[int]]:
    """Source turn ids per topic path, ordered the way the contract says: (turn_index, created_at, id)."""
    columns = {
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (schema, "grp_topic_avatar_turns"),
        )
    }
    join = "t.topic_id = p.id" if "topic_id" in columns else "t.topicpathid = p.index"
    rows = conn.execute(
        sql.SQL(
            "select p.path::text, t.id, t.turn_index, t.created_at "
            "from {schema}.grp_topic_avatar_turns t join {schema}.topic_paths p on " + join
        ).format(schema=sql.Identifier(schema))
    ).fetchall()
    by_path: dict[str, list[tuple[Decimal, Any, int]]] = defaultdict(list)
    for path, turn_id, turn_index, created_at in rows:
        by_path[path].append((turn_index, created_at, turn_id))
    return {path: [turn_id for _, _, turn_id in sorted(turns)] for path, turns in by_path.items()}


def test_application_query_returns_each_topics_turns_in_order(conn, migrated):
    clients = client_ids(conn)
    checked = 0
    for schema, layout in tenant_layouts(migrated.manifest).items():
        if layout != "topic":
            continue
        for path, expected in expected_topic_order(conn, schema).items():
            rows = conn.execute(APPLICATION_QUERY, (str(clients[schema]), path)).fetchall()
            got = [int(row[5].rsplit(".", 1)[1]) for row in rows]  # source_turn_id is the 6th column
            assert got == expected, f"{schema} {path}"
            checked += 1
    assert checked > 10


def test_turn_metadata_keeps_the_original_turn_index_text(conn, migrated):
    schema = "bsa"
    source = dict(
        conn.execute(sql.SQL("select id, turn_index::text from {}.grp_con_avatar_turns").format(sql.Identifier(schema)))
    )
    landed = conn.execute(
        "select (metadata->>'original_turn_id')::bigint, metadata->>'turn_index' from conversation.turns "
        "where metadata->>'schema_name' = %s",
        (schema,),
    ).fetchall()
    assert dict(landed) == source
    assert any(text.endswith(".50") for text in source.values()), "a fractional comment index, written 2.50"


def test_unfiled_block_holds_the_turns_whose_topic_is_gone(conn, migrated):
    clients = client_ids(conn)
    for schema, turn_ids in migrated.manifest["quirks"]["missing_topic_turns"].items():
        table = TURN_TABLES[tenant_layouts(migrated.manifest)[schema]]
        rows = conn.execute(
            """
            select b.block_type, b.client_id, count(*)
            from conversation.turns t
            join conversation.block_turns bt on t.turn_id = bt.turn_id
            join conversation.blocks b on bt.block_id = b.block_id
            where t.source_turn_id = any(%s)
            group by 1, 2
            """,
            ([f"{schema}.{table}.{turn_id}" for turn_id in turn_ids],),
        ).fetchall()
        assert rows == [("unfiled", clients[schema], len(turn_ids))], schema


def test_cross_tenant_parent_conversation_does_not_leak(conn, migrated):
    for grp_con_id in migrated.manifest["quirks"]["cross_tenant_parents"]["conflict_club"]:
        parent = conn.execute(
            "select parent_block_id from conversation.blocks "
            "where metadata->>'schema_name' = 'conflict_club' and (metadata->>'original_grp_con_id')::bigint = %s",
            (grp_con_id,),
        ).fetchone()
        assert parent == (None,)


def test_topic_with_missing_parent_path_nests_under_an_existing_ancestor_or_none(conn, migrated):
    for schema, topic_ids in migrated.manifest["quirks"]["missing_parent_topics"].items():
        rows = conn.execute(
            """
            select child.metadata->>'original_topic_path', parent.metadata->>'original_topic_path'
            from conversation.blocks child
            left join conversation.blocks parent on child.parent_block_id = parent.block_id
            where child.metadata->>'schema_name' = %s and (child.metadata->>'original_topic_id')::bigint = any(%s)
            """,
            (schema, topic_ids),
        ).fetchall()
        assert len(rows) == len(topic_ids)
        for child_path, parent_path in rows:
            if parent_path is not None:
                assert child_path.startswith(parent_path + "."), (child_path, parent_path)


def text_columns(conn: psycopg.Connection, schemas: tuple[str, ...]) -> list[tuple[str, str, str]]:
    return conn.execute(
        """
        select c.table_schema, c.table_name, c.column_name
        from information_schema.columns c
        join information_schema.tables t using (table_schema, table_name)
        where c.table_schema = any(%s)
          and (c.data_type in ('text', 'jsonb', 'json', 'character varying', 'ARRAY'))
        order by 1, 2, 3
        """,
        (list(schemas),),
    ).fetchall()


def test_no_secret_or_plaintext_password_in_any_target_or_bookkeeping_table(conn, migrated):
    needles = set(migrated.manifest["secrets"])
    needles |= {entry["plaintext"] for entry in migrated.manifest["passwords"] if entry["plaintext"]}
    assert needles
    columns = text_columns(conn, TARGET_SCHEMAS + BOOKKEEPING_SCHEMAS)
    assert len(columns) > 20
    # the scan itself works: it finds the api keys where Backstage keeps them
    assert found_needles(conn, ("public", "llms", "api_key"), needles)
    leaks = [(schema, table, column) for schema, table, column in columns if found_needles(conn, (schema, table, column), needles)]
    assert leaks == []


def test_the_secret_key_test_finds_a_secret_named_key_at_any_depth(conn, migrated, dbt):
    """mart_no_secret_keys lists flat objects' keys directly and walks only nested values: a key naming a secret
    fails it at the top level, inside an object, inside an array, and under a value that is not an object."""
    turn_id, original = conn.execute(
        "select turn_id, metadata from conversation.turns order by turn_id limit 1").fetchone()
    conn.execute(
        """update conversation.turns set metadata = metadata
               || jsonb_build_object('api_key', 'x', 'profile', jsonb_build_object('password', 'x'),
                                     'history', jsonb_build_array(1, jsonb_build_object('access_token', 'x')))
           where turn_id = %s""", (turn_id,))
    participant_id, participant_original = conn.execute(
        "select id, metadata from conversation.participants order by id limit 1").fetchone()
    # a value that is not an object at all is walked whole
    conn.execute("""update conversation.participants set metadata = '[{"secret": "x"}]' where id = %s""",
                 (participant_id,))
    try:
        result = dbt("test", "--select", "test_name:mart_no_secret_keys", database_name=migrated.name, check=False)
        assert result.returncode != 0
        failing = [line for line in result.stdout.splitlines() if "Failure in test mart_no_secret_keys" in line]
        assert any("turns_metadata" in line for line in failing), result.stdout[-3000:]
        assert any("participants_metadata" in line for line in failing), result.stdout[-3000:]
        assert "Got 3 results" in result.stdout and "Got 1 result" in result.stdout, result.stdout[-3000:]
    finally:
        conn.execute("update conversation.turns set metadata = %s where turn_id = %s", (Jsonb(original), turn_id))
        conn.execute("update conversation.participants set metadata = %s where id = %s",
                     (Jsonb(participant_original), participant_id))
    assert dbt("test", "--select", "test_name:mart_no_secret_keys", database_name=migrated.name, check=False).ok


def found_needles(conn: psycopg.Connection, column: tuple[str, str, str], needles: set[str]) -> int:
    """How many of the needles occur anywhere in the column (its text form); never returns the needles."""
    schema, table, name = column
    query = sql.SQL(
        "select count(*) from unnest(%s::text[]) as needle "
        "where exists (select from {}.{} where strpos({}::text, needle) > 0)"
    ).format(sql.Identifier(schema), sql.Identifier(table), sql.Identifier(name))
    return conn.execute(query, (sorted(needles),)).fetchone()[0]


def test_people_in_several_clients_get_one_user_per_client(conn, migrated):
    clients = client_ids(conn)
    memberships: dict[int, set[int]] = defaultdict(set)
    for schema, participant_ids in migrated.manifest["memberships"].items():
        for participant_id in participant_ids:
            memberships[participant_id].add(clients[schema])
    people = migrated.manifest["quirks"]["multi_client_people"]
    assert people
    for participant_id in people:
        rows = conn.execute(
            "select client_id, email from client_mgmt.users where metadata->>'original_participant_id' = %s",
            (str(participant_id),),
        ).fetchall()
        assert {client for client, _ in rows} == memberships[participant_id]
        assert len(rows) == len(memberships[participant_id]) > 1
        assert len({email for _, email in rows}) == 1


def test_memberships_match_the_simulated_footprints(conn, migrated):
    rows = conn.execute(
        "select metadata->>'schema_name', (metadata->>'original_participant_id')::bigint "
        "from conversation.participants where type = 'human'"
    ).fetchall()
    landed: dict[str, set[int]] = defaultdict(set)
    for schema, participant_id in rows:
        landed[schema].add(participant_id)
    assert landed == {schema: set(ids) for schema, ids in migrated.manifest["memberships"].items() if ids}


def test_person_in_no_client_gets_no_user_and_is_quarantined(conn, migrated):
    people = migrated.manifest["quirks"]["people_in_no_client"]
    assert people
    ids = [str(p) for p in people]
    assert conn.execute(
        "select count(*) from client_mgmt.users where metadata->>'original_participant_id' = any(%s)", (ids,)
    ).fetchone() == (0,)
    assert conn.execute(
        "select count(*) from conversation.participants where metadata->>'original_participant_id' = any(%s)", (ids,)
    ).fetchone() == (0,)
    quarantined = conn.execute(
        "select source_id from migration_intermediate.int_source_rows "
        "where reasons ? 'no_client_membership' and disposition = 'held'"
    ).fetchall()
    assert set(ids) <= {source_id for (source_id,) in quarantined}


def test_case_duplicate_email_older_keeps_the_login_younger_still_speaks(conn, migrated):
    clients = client_ids(conn)
    pairs = migrated.manifest["quirks"]["case_duplicate_emails"]
    assert pairs
    for pair in pairs:
        older, younger = pair["participant_ids"]
        for schema in pair["schemas"]:
            client_id = clients[schema]
            users = conn.execute(
                "select (metadata->>'original_participant_id')::bigint from client_mgmt.users "
                "where client_id = %s and lower(email) = lower(%s)",
                (client_id, pair["emails"][0]),
            ).fetchall()
            assert users == [(older,)]
            participant = conn.execute(
                "select user_id, metadata->>'login' from conversation.participants "
                "where client_id = %s and type = 'human' and metadata->>'original_participant_id' = %s",
                (client_id, str(younger)),
            ).fetchone()
            assert participant == (None, "duplicate_email")
            assert conn.execute(
                "select count(*) from migration_intermediate.int_source_rows "
                "where reasons ? 'duplicate_email' and client_id = %s and source_id = %s",
                (client_id, str(younger)),
            ).fetchone() == (1,)
    for pair in migrated.manifest["quirks"]["case_variant_emails_across_clients"]:
        for participant_id, schema in zip(pair["participant_ids"], pair["schemas"], strict=True):
            assert conn.execute(
                "select count(*) from client_mgmt.users where client_id = %s and metadata->>'original_participant_id' = %s",
                (clients[schema], str(participant_id)),
            ).fetchone() == (1,)


def test_speaker_quirks_resolve_as_the_contract_says(conn, migrated):
    quirks = migrated.manifest["quirks"]
    layouts = tenant_layouts(migrated.manifest)

    def resolutions(name: str) -> set[tuple[str, str]]:
        found = set()
        for schema, turn_ids in quirks[name].items():
            table = TURN_TABLES[layouts[schema]]
            found |= set(
                conn.execute(
                    "select t.metadata->>'speaker_resolution', p.type from conversation.turns t "
                    "join conversation.participants p on t.participant_id = p.id where t.source_turn_id = any(%s)",
                    ([f"{schema}.{table}.{turn_id}" for turn_id in turn_ids],),
                ).fetchall()
            )
        return found

    assert resolutions("missing_speaker_turns") == {("unknown_participant_not_member", "unknown")}
    assert resolutions("unowned_avatar_turns") == {("unknown_unresolved", "unknown")}
    assert resolutions("comments_with_avatar_id") == {("comment_avatar_in_participant_id", "avatar")}
    assert resolutions("llm_id_holds_participant") == {("avatar_id", "avatar")}


def test_vectors_zero_becomes_null_and_legacy_is_flagged(conn, migrated):
    for schema, turn_ids in migrated.manifest["quirks"]["zero_vector_turns"].items():
        rows = conn.execute(
            "select content_vector is null, metadata->>'content_vector_was_zero' from conversation.turns "
            "where source_turn_id = any(%s)",
            ([f"{schema}.grp_topic_avatar_turns.{turn_id}" for turn_id in turn_ids],),
        ).fetchall()
        assert rows and set(rows) == {(True, "true")}
    flagged = conn.execute(
        "select bool_and((metadata->>'content_vector_placeholder')::boolean) from conversation.turns "
        "where metadata->>'source_table' = 'grp_con_avatar_turns' and content_vector is not null"
    ).fetchone()
    assert flagged == (True,)


def test_unattributable_public_uploads_are_quarantined_not_migrated(conn, migrated):
    upload_ids = migrated.manifest["quirks"]["unattributable_public_uploads"]
    assert upload_ids
    ids = [str(i) for i in upload_ids]
    assert conn.execute(
        "select count(*) from files.file_uploads "
        "where metadata->>'schema_name' = 'public' and metadata->>'original_upload_id' = any(%s)",
        (ids,),
    ).fetchone() == (0,)
    quarantined = {
        source_id
        for (source_id,) in conn.execute(
            "select source_id from migration_intermediate.int_source_rows "
            "where reasons ? 'unattributable_file' and entity = 'file_upload' and disposition = 'held'"
        )
    }
    assert quarantined == set(ids)


def test_public_uploads_land_in_the_client_their_bucket_names(conn, migrated):
    clients = client_ids(conn)
    for schema, upload_ids in migrated.manifest["quirks"]["public_uploads_by_bucket_schema"].items():
        rows = conn.execute(
            "select (metadata->>'original_upload_id')::bigint, client_id from files.file_uploads "
            "where metadata->>'schema_name' = 'public' and (metadata->>'original_upload_id')::bigint = any(%s)",
            (upload_ids,),
        ).fetchall()
        assert dict(rows) == {upload_id: clients[schema] for upload_id in upload_ids}


def test_every_migrated_row_is_in_the_id_map(conn):
    missing = conn.execute(
        """
        select 'turn', count(*) from conversation.turns t
        where not exists (select from migration.migration_id_map m where m.cogito_id = t.turn_id)
        union all
        select 'block', count(*) from conversation.blocks b
        where b.block_type = 'conversation'
          and not exists (select from migration.migration_id_map m where m.cogito_id = b.block_id)
        union all
        select 'user', count(*) from client_mgmt.users u
        where not exists (select from migration.migration_id_map m where m.cogito_id = u.id)
        union all
        select 'event', count(*) from events.participant_events e
        where not exists (select from migration.migration_id_map m where m.cogito_id = e.id)
        """
    ).fetchall()
    assert all(count == 0 for _, count in missing), missing


def test_second_build_is_incremental_and_changes_nothing(conn, migrated, dbt):
    before = mart_counts(conn)
    turns_before = conn.execute("select turn_id, xmin::text from conversation.turns order by 1").fetchall()
    dbt("build", database_name=migrated.name)
    assert mart_counts(conn) == before
    # nothing was rewritten: the merge received no rows, so every row keeps its transaction id
    assert conn.execute("select turn_id, xmin::text from conversation.turns order by 1").fetchall() == turns_before
