"""Many small tenants: `simulate --extra-tenants N` adds N tenant schemas (`tenant_0001`, ...) to a simulated
database, to see how the migration behaves with hundreds of clients.

Odd-numbered ones take the topic layout, even-numbered ones the legacy layout. Each is a small clone of one of
the simulated tenants of its layout (`dev`, `timethatremains`): their personas, groups and templates, a few of
their topics or conversations (chosen by the seed) with every turn of those, and the people who speak there
(with their memberships). Topic ids come from Backstage's shared sequence, as they would. Each extra tenant is
registered in `public.schemas` and gets a client id (`EXTRA_CLIENT_ID_BASE` + its number):
`client_map_rows` gives the client map rows an operator would add for them.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from psycopg import sql

from backstage_simulator import ddl
from backstage_simulator.data import Writer
from backstage_simulator.manifest import table_rows

EXTRA_CLIENT_ID_BASE = 1000
UNITS_PER_TENANT = 2  # topics or conversations copied into each extra tenant
CLONED_FROM = {"topic": "dev", "legacy": "timethatremains"}
# tables copied whole from the tenant cloned: few rows, and what the copied turns refer to
WHOLE_TABLES = ("avatar_scopes", "avatars", "groups", "grp_templates", "grp_template_topics")
EXTRA_SCHEMA = re.compile(r"tenant_\d{4}")


def extra_schema(number: int) -> str:
    return f"tenant_{number:04d}"


def extra_layout(number: int) -> str:
    return "topic" if number % 2 else "legacy"


def client_map_rows(count: int) -> list[tuple[str, int, str, str, str]]:
    """The client map rows (schema, client_id, name, subdomain, migrate) of the first `count` extra tenants."""
    return [(extra_schema(n), EXTRA_CLIENT_ID_BASE + n, f"Tenant {n:04d}", f"tenant-{n:04d}", "true")
            for n in range(1, count + 1)]


def write_client_map(path: Path, committed: Path, count: int) -> None:
    """`path`: the rows of the client map `committed` but those of extra tenants, then one row per extra tenant.
    Writing it again (even over `committed` itself) gives the same file."""
    with committed.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row and not EXTRA_SCHEMA.fullmatch(row[0])]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([*rows, *client_map_rows(count)])


def _copy(writer: Writer, schema: str, table: str, template: str, source: str) -> None:
    writer.insert(schema, table, template, source=sql.Identifier(source), tenant=sql.Identifier(schema))


def _choose_units(writer: Writer, number: int, source: str, layout: str) -> None:
    """extra_unit: the source units copied into this tenant (old id, new id), chosen by the seed."""
    units, turns, unit_column = (("topic_paths", "grp_topic_avatar_turns", "topic_id") if layout == "topic"
                                 else ("grp_cons", "grp_con_avatar_turns", "grp_con_id"))
    writer.conn.execute("truncate extra_unit")
    writer.run(
        """
        insert into extra_unit (old_id, new_id)
        select u.id, case when {layout} = 'topic'
                          then (select max(new_id) from extra_topic_id) + row_number() over (order by u.id)
                          else u.id end
        from (select id from {units} as u
              where exists (select 1 from {turns} as t where t.{unit_column} = u.id)
              order by pg_temp.hh('extra:' || {number}, u.id), u.id
              limit {limit}) as u
        """,
        layout=layout, number=number, limit=UNITS_PER_TENANT, units=sql.Identifier(source, units),
        turns=sql.Identifier(source, turns), unit_column=sql.Identifier(unit_column),
    )
    if layout == "topic":
        writer.conn.execute("insert into extra_topic_id select new_id from extra_unit")


def _copy_topic_tenant(writer: Writer, schema: str, source: str) -> None:
    _copy(writer, schema, "topic_paths", """
        insert into {target} (id, path, index, created_by, created_on)
        select e.new_id, t.path, t.index, t.created_by, t.created_on
        from {source}.topic_paths as t join extra_unit as e on e.old_id = t.id order by e.new_id""", source)
    _copy(writer, schema, "grp_topic_avatars", """
        insert into {target}
        select a.* from {source}.grp_topic_avatars as a
        where a.topic_path_id in (select t.index from {tenant}.topic_paths as t)""", source)
    _copy(writer, schema, "grp_topic_avatar_turns", """
        insert into {target} (id, topic_id, avatar_id, participant_id, llm_id, turn_index, content_text,
                              content_vector, turn_kind_id, message_type_id, template_topic_id, created_at, updated_at)
        select t.id, e.new_id, t.avatar_id, t.participant_id, t.llm_id, t.turn_index, t.content_text,
               t.content_vector, t.turn_kind_id, t.message_type_id, t.template_topic_id, t.created_at, t.updated_at
        from {source}.grp_topic_avatar_turns as t join extra_unit as e on e.old_id = t.topic_id order by t.id""",
          source)
    writer.conn.execute(sql.SQL(
        "insert into extra_person select distinct participant_id from {} where participant_id is not null"
    ).format(sql.Identifier(schema, "grp_topic_avatar_turns")))


def _copy_legacy_tenant(writer: Writer, schema: str, source: str) -> None:
    _copy(writer, schema, "grp_cons", """
        insert into {target}
        select c.id, c.group_id, c.name, c.description, c.type_id,
               case when c.parent_grp_con_id in (select old_id from extra_unit) then c.parent_grp_con_id end,
               c.template_id, c.created_at
        from {source}.grp_cons as c where c.id in (select old_id from extra_unit) order by c.id""", source)
    _copy(writer, schema, "grp_con_avatars", """
        insert into {target}
        select a.* from {source}.grp_con_avatars as a where a.grp_con_id in (select old_id from extra_unit)""", source)
    _copy(writer, schema, "grp_con_avatar_turns", """
        insert into {target}
        select t.* from {source}.grp_con_avatar_turns as t
        where t.grp_con_id in (select old_id from extra_unit) order by t.id""", source)
    # a legacy turn speaks through an avatar: its speakers are the owners of the avatars used
    writer.conn.execute(sql.SQL(
        "insert into extra_person select distinct o.participant_id from {owners} as o"
        " where o.avatar_id in (select avatar_id from {turns})"
    ).format(owners=sql.Identifier(source, "participant_avatars"), turns=sql.Identifier(schema, "grp_con_avatar_turns")))


def _copy_people(writer: Writer, schema: str, source: str) -> None:
    """The speakers' memberships, avatars and LLMs in the tenant cloned."""
    for table in ("participant_groups", "participant_avatars", "participant_llms"):
        _copy(writer, schema, table, """
            insert into {target}
            select p.* from {source}.""" + table + """ as p
            where p.participant_id in (select participant_id from extra_person)""", source)


def add_extra_tenants(writer: Writer, count: int) -> dict[str, dict]:
    """Create and fill `count` extra tenants; returns their manifest entries ({schema: {"layout", "tables"}})."""
    conn = writer.conn
    conn.execute("create temp table extra_unit (old_id bigint, new_id bigint)")
    conn.execute("create temp table extra_person (participant_id integer)")
    conn.execute("create temp table extra_topic_id (new_id bigint)")
    # after advance_sequences: the shared sequence is past every topic id
    conn.execute("insert into extra_topic_id select last_value from public.topic_paths_numeric_id_seq")
    registry = conn.execute("select coalesce(max(id), 0) from public.schemas").fetchone()[0]
    schemas = []
    for number in range(1, count + 1):
        schema, layout = extra_schema(number), extra_layout(number)
        source = CLONED_FROM[layout]
        ddl.create_tenant(conn, schema, ddl.TenantShape(layout))
        for table in WHOLE_TABLES:
            _copy(writer, schema, table, "insert into {target} select * from {source}." + table + " order by 1",
                  source)
        conn.execute("truncate extra_person")
        _choose_units(writer, number, source, layout)
        (_copy_topic_tenant if layout == "topic" else _copy_legacy_tenant)(writer, schema, source)
        _copy_people(writer, schema, source)
        schemas.append(schema)
    writer.insert_rows("public", "schemas", ["id", "name", "display_name", "owner_participant_id", "active"],
                       [(registry + i, s, s.replace("_", " ").title(), 101, True) for i, s in enumerate(schemas, 1)])
    conn.execute("select setval('public.topic_paths_numeric_id_seq', (select max(new_id) + 1 from extra_topic_id),"
                 " false)")
    return {schema: {"layout": extra_layout(n), "cloned_from": CLONED_FROM[extra_layout(n)],
                     "client_id": EXTRA_CLIENT_ID_BASE + n, "tables": table_rows(writer, schema)}
            for n, schema in enumerate(schemas, 1)}
