"""The manifest: what was written, read from the generation plan (sim_* tables) and the row counters,
not from the finished tables, so tests can compare it with the database as independent ground truth."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from psycopg import sql

from backstage_simulator import content
from backstage_simulator.data import Writer
from backstage_simulator.ddl import TEMPLATE_SCHEMA, TENANTS
from backstage_simulator.people import PLANTED


def _by_schema(writer: Writer, query: str) -> dict[str, list]:
    """Rows (schema, value) -> {schema: [values in order]}. No parameters: `%` stays a literal."""
    result: dict[str, list] = defaultdict(list)
    for schema, value in writer.conn.execute(query).fetchall():
        result[schema].append(value)
    return dict(result)


def _counts(writer: Writer, query: str) -> dict[str, int]:
    return {schema: count for schema, count in writer.conn.execute(query).fetchall()}


def table_rows(writer: Writer, schema: str) -> dict[str, int]:
    names = writer.conn.execute(
        "select table_name from information_schema.tables where table_schema = %s and table_type = 'BASE TABLE'"
        " order by table_name",
        (schema,),
    ).fetchall()
    return {name: writer.rows.get((schema, name), 0) for (name,) in names}


def passwords(writer: Writer, people_table: str) -> list[dict[str, Any]]:
    """The password of each person of `people_table` (sim_people, grow_people), with its plaintext."""
    rows = writer.conn.execute(sql.SQL(
        "select p.pid, p.email, p.shape, pw.plaintext from {} p"
        " join sim_password pw on pw.shape = p.shape and pw.k = p.k order by p.pid"
    ).format(sql.Identifier(people_table))).fetchall()
    return [{"participant_id": pid, "email": email, "shape": shape, "plaintext": plaintext}
            for pid, email, shape, plaintext in rows]


def _quirks(writer: Writer, large_turn_bytes: int) -> dict[str, Any]:
    conn = writer.conn
    turn_ids = "select schema, id from sim_turn where {} order by schema, id"
    quirks: dict[str, Any] = {
        "missing_topic_turns": _by_schema(writer, """
            select t.schema, t.id from sim_turn t join sim_unit u on u.schema = t.schema and u.unit_id = t.unit_id
            where not u.present order by t.schema, t.id"""),
        "missing_topics": _by_schema(writer, """
            select schema, case when schema = 'first_congregational' then idx else unit_id::text end
            from sim_unit where not present order by schema, unit_id"""),
        "missing_speaker_turns": _by_schema(writer, turn_ids.format("role = 1 and odd_speaker and layout = 'topic'")),
        "unowned_avatar_turns": _by_schema(writer, turn_ids.format("role = 1 and odd_speaker and layout = 'legacy'")),
        "comment_turns": _counts(writer, "select schema, count(*) from sim_turn where role = 3 group by schema"),
        "comments_with_avatar_id": _by_schema(writer, turn_ids.format("role = 3 and comment_avatar")),
        "repeated_turn_index": _by_schema(writer, turn_ids.format("role = 2 and dup_index")),
        "llm_id_holds_participant": _by_schema(writer, turn_ids.format("role = 2 and llm_bug")),
        "zero_vector_turns": _by_schema(writer, turn_ids.format(
            "role = 1 and zero_user or role = 2 and zero_assistant")),
        "upload_notice_turns": _by_schema(writer, """
            select t.schema, t.id from sim_turn t join sim_upload u on u.schema = t.schema and u.key = t.key
            where t.role = 1 order by t.schema, t.id"""),
        "non_ascii_turns": _by_schema(writer, turn_ids.format("role = 1 and non_ascii")),
        "sql_like_turns": _by_schema(writer, turn_ids.format("role = 1 and sql_like")),
        "legacy_assistant_llm_avatar_turns": _counts(writer, """
            select schema, count(*) from sim_turn where layout = 'legacy' and role = 2 group by schema"""),
        "odd_topic_indexes": _by_schema(writer, """
            select schema, idx from sim_unit where idx like '%\\_%' and present order by schema, unit_id"""),
        "missing_parent_topics": _by_schema(writer, """
            select t.schema, t.unit_id from sim_unit t
            where t.present and t.path like '%.%' and not exists (
                select 1 from sim_unit p where p.schema = t.schema and p.present
                and p.path = regexp_replace(t.path, '\\.[^.]*$', ''))
            order by t.schema, t.unit_id"""),
        "case_variant_paths": _by_schema(writer, """
            select v.schema, json_build_array(o.path, v.path) from sim_unit v
            join sim_unit o on o.schema = v.schema and lower(o.path) = v.path and o.path <> v.path
            where v.kind = 'case_variant' order by v.schema"""),
        "cross_tenant_parents": _by_schema(writer, """
            select c.schema, c.unit_id from sim_unit c
            where c.parent_id is not null and c.present and c.schema = 'conflict_club'
              and not exists (select 1 from sim_unit p where p.schema = c.schema and p.unit_id = c.parent_id)
            order by c.unit_id"""),
    }
    large = conn.execute("select id from sim_turn where large and role = 2").fetchall()
    quirks["large_turns"] = [{"schema": "dev", "table": "grp_topic_avatar_turns", "id": i, "bytes": large_turn_bytes}
                             for (i,) in large]
    quirks["two_row_uploads"] = _by_schema(writer, """
        select table_key, json_build_array(temp_id, storage_id) from sim_upload where two_rows
        order by table_key, storage_id""")
    quirks["public_uploads_by_bucket_schema"] = _by_schema(writer, """
        select bucket, id from (
            select bucket, storage_id as id from sim_upload where table_key = 'public'
            union all select bucket, temp_id from sim_upload where table_key = 'public' and two_rows
        ) as x where bucket in (select schema from sim_schema) order by bucket, id""")
    quirks["unattributable_public_uploads"] = [r[0] for r in conn.execute("""
        select id from (
            select bucket, storage_id as id from sim_upload where table_key = 'public'
            union all select bucket, temp_id from sim_upload where table_key = 'public' and two_rows
        ) as x where bucket is null or bucket not in (select schema from sim_schema) order by id""").fetchall()]
    quirks["people_in_no_client"] = [r[0] for r in conn.execute(
        "select pid from sim_people p where not exists (select 1 from sim_member m where m.pid = p.pid) order by pid"
    ).fetchall()]
    quirks["multi_client_people"] = [r[0] for r in conn.execute(
        "select pid from sim_member group by pid having count(*) > 1 order by pid").fetchall()]
    quirks["case_duplicate_emails"] = _case_pairs(PLANTED, same_client=True)
    quirks["case_variant_emails_across_clients"] = _case_pairs(PLANTED, same_client=False)
    quirks["footprint_only"] = {p.footprint: {"participant_id": p.participant_id, "schema": p.schemas[0]}
                                for p in PLANTED if p.footprint != "regular"}
    quirks["event_logs"] = {
        key: [r[0] for r in conn.execute(query).fetchall()]
        for key, query in {
            "schema_null": "select id from sim_event_log where schema is null and kind <> 'unknown_email' order by id",
            "schema_public": "select id from sim_event_log where schema = 'public' order by id",
            "unknown_emails": "select email from sim_event_log where kind = 'unknown_email' order by id",
        }.items()
    }
    return quirks


def _case_pairs(planted, same_client: bool) -> list[dict[str, Any]]:
    groups: dict[str, list] = defaultdict(list)
    for p in planted:
        groups[p.email.lower()].append(p)
    pairs = []
    for members in groups.values():
        if len(members) < 2:
            continue
        shared = set(members[0].schemas).intersection(*(m.schemas for m in members[1:]))
        if bool(shared) == same_client:
            pairs.append({"schemas": sorted(shared) if same_client else [m.schemas[0] for m in members],
                          "participant_ids": [m.participant_id for m in members],
                          "emails": [m.email for m in members]})
    return pairs


def build_manifest(writer: Writer, database_name: str, secrets: list[str], large_turn_bytes: int) -> dict[str, Any]:
    schemas: dict[str, Any] = {"public": {"layout": "global", "tables": table_rows(writer, "public")}}
    for name, shape in TENANTS.items():
        schemas[name] = {"layout": shape.layout, "tables": table_rows(writer, name)}
    schemas[TEMPLATE_SCHEMA] = {"layout": "template", "tables": table_rows(writer, TEMPLATE_SCHEMA)}
    memberships = {schema: [] for schema in TENANTS}
    for schema, pid in writer.conn.execute("select schema, pid from sim_member order by schema, pid").fetchall():
        memberships[schema].append(pid)
    return {
        "seed": writer.plan.seed,
        "scale": writer.plan.scale,
        "database": database_name,
        "schemas": schemas,
        "passwords": passwords(writer, "sim_people"),
        "secrets": sorted(set(secrets)),
        "memberships": memberships,
        "quirks": _quirks(writer, large_turn_bytes),
        "content_markers": {"non_ascii": content.NON_ASCII_TEXT, "sql_like": content.SQL_LIKE_TEXT},
    }
