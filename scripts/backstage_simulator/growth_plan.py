"""Planning a growth step: read what an existing simulated database holds, then fill the same sim_* plan
tables `simulate` uses, but only with new rows (ids after the current maxima), so that the writers in
`conversations` can run on them unchanged.

What a growth plans, per tenant schema (counts are `amount` times the existing volume, at least one):
- new people (sim-style names and passwords) and memberships: each new person joins one or more tenants,
  a few existing people join a tenant where they had no footprint yet (grow_member);
- new topics (topic layout) or conversations (legacy layout) with their exchanges (sim_unit);
- new exchanges in existing topics and conversations (grow_continue), whose turn_index continues at
  trunc(MAX(turn_index)) + 1 (comments at the fractional midpoint after their answer);
- uploads on some exchanges (tenant, legacy grp_con or public with the tenant's bucket name) with chunks.

Every random choice comes from pg_temp.hh, seeded with (seed, generation): another generation of the same
seed gives other rows; the same database and seed give the same rows.

What is the same as in `simulate` is simulate's own code, given where ids continue: people from
`people.GENERATED_PEOPLE`, units drawn with `conversations.unit_draws`, exchanges and their turns by
`create_exchanges` (turns numbered after sim_schema.turn_after and sim_ex.index_base), uploads chosen by
`select_uploads` and numbered by `number_uploads` (after the ids in use per table). Only what a growth does
differently (no planted quirks, continued units, memberships of existing people) is written here.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from backstage_simulator.conversations import (
    CONVERSATION_KINDS,
    LEAF_LABELS,
    UNIT_AVATAR,
    create_exchanges,
    create_plan_tables,
    number_uploads,
    select_uploads,
    unit_draws,
)
from backstage_simulator.data import LATE_MAY, Writer
from backstage_simulator.ddl import TENANTS
from backstage_simulator.people import ALL_TENANTS, GENERATED_PEOPLE
from backstage_simulator.plan import MULTI_CLIENT_PERCENT, SINGLE_CLIENT_CUMULATIVE
from backstage_simulator.tenants import create_avatar_table, create_schema_table

TOPIC_SCHEMAS = tuple(s for s, shape in TENANTS.items() if shape.layout == "topic")
GROWTH_WINDOW_SECONDS = 30 * 86400  # new topics start within 30 days after the growth's base time


@dataclass(frozen=True)
class Volume:
    """What one tenant schema holds before the growth, and where its new ids start."""

    schema: str
    layout: str
    units: int  # topics or conversations present
    turns: int
    n_ai: int  # AI avatars have ids 1..n_ai
    group_ids: tuple[int, ...]
    unit_after: int  # new topic / conversation ids start after this
    turn_after: int
    avatar_after: int
    relationship_after: int  # legacy layout only


def turn_table(layout: str) -> str:
    return "grp_topic_avatar_turns" if layout == "topic" else "grp_con_avatar_turns"


def unit_table(layout: str) -> str:
    return "topic_paths" if layout == "topic" else "grp_cons"


def turn_unit_column(schema: str) -> str:
    """The turn column naming the topic or conversation (first_congregational: the topic's index text)."""
    if TENANTS[schema].layout == "legacy":
        return "grp_con_id"
    return TENANTS[schema].topic_reference


def last_id(conn: psycopg.Connection, schema: str, table: str, column: str = "id") -> int:
    """The highest id in use: the column's maximum or, when the serial has gone further, its sequence."""
    target = sql.Identifier(schema, table)
    top = conn.execute(sql.SQL("select coalesce(max({}), 0) from {}").format(sql.Identifier(column), target)
                       ).fetchone()[0]
    sequence = conn.execute("select pg_get_serial_sequence(%s, %s)", (target.as_string(conn), column)).fetchone()[0]
    if sequence:
        last, called = conn.execute(sql.SQL("select last_value, is_called from {}").format(sql.SQL(sequence))
                                    ).fetchone()
        top = max(top, last if called else last - 1)
    return int(top)


def _max_of(conn: psycopg.Connection, schema: str, table: str, column: str) -> int:
    query = sql.SQL("select coalesce(max({}), 0) from {}").format(sql.Identifier(column), sql.Identifier(schema, table))
    return int(conn.execute(query).fetchone()[0])


def topic_ids_after(conn: psycopg.Connection) -> int:
    """Topic ids come from one shared sequence; turns of deleted topics keep their ids in use too."""
    candidates = []
    for schema in (*TOPIC_SCHEMAS, "template"):
        candidates.append(_max_of(conn, schema, "topic_paths", "id"))
    candidates.extend(_max_of(conn, s, "grp_topic_avatar_turns", "topic_id") for s in TOPIC_SCHEMAS
                      if TENANTS[s].topic_reference == "topic_id")
    last, called = conn.execute("select last_value, is_called from public.topic_paths_numeric_id_seq").fetchone()
    candidates.append(last if called else last - 1)
    return int(max(candidates))


def read_volume(conn: psycopg.Connection, schema: str, topic_after: int) -> Volume:
    layout = TENANTS[schema].layout
    s = sql.Identifier(schema)
    units = conn.execute(sql.SQL("select count(*) from {}.{}").format(s, sql.Identifier(unit_table(layout)))
                         ).fetchone()[0]
    n_ai = conn.execute(sql.SQL("select coalesce(max(id), 0) from {}.avatars where llm_config is not null")
                        .format(s)).fetchone()[0]
    groups = tuple(r[0] for r in conn.execute(sql.SQL("select id from {}.groups order by id").format(s)))
    if layout == "topic":
        unit_after, relationship_after = topic_after, 0
    else:
        # a deleted conversation's id stays in use by its turns and uploads: never hand it out again
        unit_after = max(last_id(conn, schema, "grp_cons"), _max_of(conn, schema, "grp_con_avatar_turns", "grp_con_id"),
                         _max_of(conn, schema, "grp_con_uploads", "grp_con_id"))
        relationship_after = last_id(conn, schema, "grp_con_avatar_turn_relationships")
    turns = conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, turn_table(layout)))
                         ).fetchone()[0]
    return Volume(schema, layout, int(units), int(turns), int(n_ai), groups, unit_after,
                  last_id(conn, schema, turn_table(layout)), last_id(conn, schema, "avatars"), relationship_after)


def growth_base_time(conn: psycopg.Connection) -> str:
    """The day after the newest row: new rows are younger than everything already there."""
    parts = ["select max(created_at) from public.participants",
             "select max(created_at) from public.participant_event_logs"]
    parts += [sql.SQL("select max(created_at) from {}").format(sql.Identifier(s, turn_table(shape.layout))
                                                               ).as_string(conn) for s, shape in TENANTS.items()]
    query = "select date_trunc('day', max(t)) + interval '1 day' from (" + " union all ".join(parts) + ") as x (t)"
    value = conn.execute(query).fetchone()[0]
    return value.isoformat() if value is not None else LATE_MAY


def footprint_query(conn: psycopg.Connection, schema: str) -> str:
    """(pid, schema) for everyone with a footprint in `schema`: the source spec's membership rule."""
    s = sql.Identifier(schema).as_string(conn)
    parts = [f"select participant_id::bigint from {s}.{t}" for t in (
        "participant_groups", "participant_avatars", "participant_llms", "participant_preferences",
        "participant_events")]
    parts.append(f"select created_by_participant_id from {s}.grp_templates")
    if TENANTS[schema].layout == "topic":
        parts += [f"select participant_id from {s}.grp_topic_avatar_turns", f"select created_by from {s}.topic_paths"]
    name = sql.Literal(schema).as_string(conn)
    parts.append("select l.participant_id from public.participant_event_logs as l join public.schemas as x"
                 f" on x.id = l.schema_id where x.name = {name}")
    return (f"select p.id, {name} from public.participants as p where p.id in ("
            + " union ".join(parts) + ")")


def plan_growth_schemas(writer: Writer, volumes: dict[str, Volume], new_units: dict[str, int],
                        n_continue: dict[str, int]) -> None:
    """sim_schema as `simulate` has it (units = new units), plus where each schema's new ids start."""
    offset = {}
    topic_next = None
    for schema in TENANTS:  # topic ids of both topic schemas come one after the other from the shared sequence
        volume = volumes[schema]
        if volume.layout == "topic":
            topic_next = volume.unit_after if topic_next is None else topic_next
            offset[schema], topic_next = topic_next, topic_next + new_units[schema]
        else:
            offset[schema] = volume.unit_after
    create_schema_table(writer, [
        {"schema": s.schema, "ordinal": s.ordinal, "layout": s.layout, "themes": list(s.theme_ids),
         "units": new_units[s.schema], "n_ai": volumes[s.schema].n_ai, "n_groups": len(volumes[s.schema].group_ids),
         "unit_offset": offset[s.schema], "group_ids": list(volumes[s.schema].group_ids),
         "n_continue": n_continue[s.schema], "turn_after": volumes[s.schema].turn_after,
         "avatar_after": volumes[s.schema].avatar_after}
        for s in writer.plan.schemas
    ])


def plan_people(writer: Writer, people_after: int, base_time: str, joiners: int) -> None:
    """grow_old_member (memberships before the growth), grow_people, grow_member (new person or joiner)."""
    conn = writer.conn
    conn.execute("create temp table grow_old_member (pid bigint, schema text, primary key (pid, schema))")
    conn.execute("insert into grow_old_member " + " union ".join(footprint_query(conn, s) for s in TENANTS))
    conn.execute("create temp table grow_people (n int primary key, pid bigint unique, name text, email text,"
                 " shape text, k int, created_at timestamptz)")
    conn.execute("create temp table grow_member (pid bigint, schema text, joined bool, avatar_id bigint,"
                 " primary key (pid, schema))")
    writer.run(
        """
        insert into grow_people
        select n, pid, name, email, shape, k, timestamptz {base} + n * interval '3 hours'
        from (""" + GENERATED_PEOPLE + """) as g
        """,
        pid_after=people_after, base=base_time, first=1, last=writer.plan.people,
    )
    # new people: one tenant, some several (the first new person always two)
    writer.run(
        """
        insert into grow_member (pid, schema, joined)
        select p.pid, ({tenants}::text[])[1 + mod(c.first + x.offset, {n_tenants})], false
        from grow_people as p
        cross join lateral (select pg_temp.hh('member', p.n) as m) as h
        cross join lateral (
            select (select count(*)::int from unnest({cumulative}::int[]) as c where c <= mod(pg_temp.r(m, 1), 100))
                       as first,
                   1 + mod(pg_temp.r(m, 2), {n_tenants} - 1) as o1,
                   p.n = 1 or mod(pg_temp.r(m, 0), 100) < {multi} as several
        ) as c
        cross join lateral (select 0 as offset union all select c.o1 where c.several) as x
        """,
        tenants=list(ALL_TENANTS), n_tenants=len(ALL_TENANTS), cumulative=list(SINGLE_CLIENT_CUMULATIVE),
        multi=MULTI_CLIENT_PERCENT,
    )
    # existing members join one more tenant where they have no footprint yet
    writer.run(
        """
        insert into grow_member (pid, schema, joined)
        select pid, schema, true
        from (
            select c.pid, s.schema, row_number() over (partition by c.pid order by mod(s.ordinal + c.r, 97), s.ordinal)
                       as rank
            from (
                select o.pid, pg_temp.r(pg_temp.hh('join', o.pid), 0) as r
                from grow_old_member as o
                group by o.pid
                having count(*) < {n_tenants}
                order by pg_temp.hh('join', o.pid)
                limit {joiners}
            ) as c
            cross join sim_schema as s
            where not exists (select 1 from grow_old_member as o where o.pid = c.pid and o.schema = s.schema)
        ) as x
        where rank = 1
        """,
        n_tenants=len(ALL_TENANTS), joiners=joiners,
    )
    # legacy users speak through an avatar of their own: new members get one after the schema's last avatar
    conn.execute(
        "update grow_member m set avatar_id = x.avatar_id from ("
        " select g.pid, g.schema, sc.avatar_after + row_number() over (partition by g.schema order by g.pid)"
        " as avatar_id from grow_member g join sim_schema sc on sc.schema = g.schema where sc.layout = 'legacy'"
        ") as x where x.pid = m.pid and x.schema = m.schema"
    )
    conn.execute("analyze grow_old_member, grow_people, grow_member")


def plan_speakers(writer: Writer) -> None:
    """sim_speaker (schema, k, pid, avatar_id): who may speak in each schema, existing members and new ones.

    Topic layout: everyone in participant_groups. Legacy layout: the owners of personal avatars (no
    llm_config), with the avatar their turns carry."""
    conn = writer.conn
    conn.execute("create temp table sim_speaker (schema text, k int, pid bigint, avatar_id bigint,"
                 " primary key (schema, k))")
    for schema, shape in TENANTS.items():
        s = sql.Identifier(schema)
        if shape.layout == "topic":
            existing = sql.SQL("select distinct g.participant_id::bigint, null::bigint from {}.participant_groups as g"
                               " join public.participants as p on p.id = g.participant_id").format(s)
        else:
            existing = sql.SQL("select pa.participant_id::bigint, pa.avatar_id from {}.participant_avatars as pa"
                               " join {}.avatars as a on a.id = pa.avatar_id where a.llm_config is null").format(s, s)
        conn.execute(sql.SQL(
            "insert into sim_speaker select {name}, (row_number() over (order by pid, avatar_id) - 1)::int, pid,"
            " avatar_id from ({existing} union select pid, avatar_id from grow_member where schema = {name})"
            " as x (pid, avatar_id)"
        ).format(name=sql.Literal(schema), existing=existing))
    conn.execute("update sim_schema s set n_speakers = (select count(*) from sim_speaker p where p.schema = s.schema)")
    conn.execute("analyze sim_speaker, sim_schema")


def load_avatars(writer: Writer) -> None:
    """sim_avatar: the AI avatars already there (their LLM answers the turns)."""
    create_avatar_table(writer)
    for schema in TENANTS:
        writer.conn.execute(sql.SQL(
            "insert into sim_avatar select {name}, id, null, coalesce((llm_config->>'llm_id')::int, 1), name"
            " from {s}.avatars where llm_config is not null"
        ).format(name=sql.Literal(schema), s=sql.Identifier(schema)))


def plan_new_units(writer: Writer, base_time: str) -> None:
    """sim_unit: the new topics and conversations (all present), ids after each schema's offset."""
    create_plan_tables(writer)
    # the unit id ends the path and is the index: larger than every id, ordinal and index already there
    writer.run(
        """
        insert into sim_unit (schema, n, unit_id, theme_id, sub_n, path, idx, created_by, created_on, n_ex, present,
                              kind, avatar_id)
        select sc.schema, n, sc.unit_offset + n, th.theme_id, sb.sub_n,
               pg_temp.pick(th.roots, pg_temp.r(m, 2)) || '.' || sb.label || '.'
                   || pg_temp.pick({leaves}::text[], pg_temp.r(m, 3)) || (sc.unit_offset + n),
               (sc.unit_offset + n)::text, sp.pid,
               timestamptz {base} + mod(pg_temp.r(m2, 1), {window}) * interval '1 second',
               3 + mod(pg_temp.r(m2, 3), 15), true, 'leaf',
               """ + UNIT_AVATAR + """
        """ + unit_draws("topic") + """
        join sim_speaker as sp on sp.schema = sc.schema and sp.k = mod(pg_temp.r(m2, 2), sc.n_speakers)
        where sc.layout = 'topic'
        """,
        base=base_time, window=GROWTH_WINDOW_SECONDS, leaves=list(LEAF_LABELS),
    )
    # parents: a present conversation of the schema that also exists where the parent key points
    writer.conn.execute("create temp table grow_parent (schema text primary key, ids bigint[])")
    for schema, shape in TENANTS.items():
        if shape.layout == "legacy":
            writer.conn.execute(sql.SQL(
                "insert into grow_parent select {name}, array_agg(c.id order by c.id) from {s}.grp_cons as c"
                " where exists (select 1 from {p}.grp_cons as p where p.id = c.id)"
            ).format(name=sql.Literal(schema), s=sql.Identifier(schema),
                     p=sql.Identifier(shape.parent_schema or schema)))
    writer.run(
        """
        insert into sim_unit (schema, n, unit_id, theme_id, sub_n, name, created_on, n_ex, present, kind, avatar_id,
                              group_id, parent_id, type_id)
        select sc.schema, n, sc.unit_offset + n, th.theme_id, sb.sub_n,
               initcap(sb.title) || ': ' || pg_temp.pick({kinds}::text[], pg_temp.r(m, 2))
                   || ' #' || (sc.unit_offset + n),
               timestamptz {base} + mod(pg_temp.r(m2, 1), {window}) * interval '1 second',
               3 + mod(pg_temp.r(m2, 3), 15), true, 'conversation',
               """ + UNIT_AVATAR + """,
               sc.group_ids[1 + mod(pg_temp.r(m, 3), cardinality(sc.group_ids))],
               case when mod(pg_temp.r(m2, 2), 3) = 0 then gp.ids[1 + mod(pg_temp.r(m3, 3), cardinality(gp.ids))] end,
               1 + mod(pg_temp.r(m3, 2), 3)
        """ + unit_draws("con") + """
        left join grow_parent as gp on gp.schema = sc.schema
        where sc.layout = 'legacy'
        """,
        base=base_time, window=GROWTH_WINDOW_SECONDS, kinds=list(CONVERSATION_KINDS),
    )
    writer.conn.execute("analyze sim_unit")


def plan_continued_units(writer: Writer, base_time: str) -> None:
    """grow_continue: existing topics and conversations that get new exchanges, with their last turn_index.

    Their theme is read back from the path's subtopic label (topic layout) or the name's title (legacy);
    the avatar from grp_topic_avatars / grp_con_avatars (an AI avatar)."""
    conn = writer.conn
    conn.execute(
        "create temp table grow_continue (schema text, n int, unit_id bigint, idx text, label text,"
        " index_base numeric, avatar_id int, theme_id int, sub_n int, n_ex int, start_at timestamptz,"
        " primary key (schema, unit_id))"
    )
    for schema, shape in TENANTS.items():
        s = sql.Identifier(schema)
        if shape.layout == "topic":
            join = "t.topicpathid = u.index" if shape.topic_reference == "topicpathid" else "t.topic_id = u.id"
            units = sql.SQL(
                "select u.id, u.index, u.path::text, (select min(a.avatar_id) from {s}.grp_topic_avatars as a"
                " where a.topic_path_id = u.index and a.avatar_id <= sc.n_ai) from {s}.topic_paths as u"
            ).format(s=s)
        else:
            join = "t.grp_con_id = u.id"
            units = sql.SQL(
                "select u.id, null::text, u.name, (select min(a.avatar_id) from {s}.grp_con_avatars as a"
                " where a.grp_con_id = u.id and a.avatar_id <= sc.n_ai) from {s}.grp_cons as u"
            ).format(s=s)
        conn.execute(sql.SQL(
            """
            insert into grow_continue (schema, n, unit_id, idx, label, index_base, avatar_id)
            select c.schema, row_number() over (order by c.h), c.unit_id, c.idx, c.label,
                   coalesce((select trunc(max(t.turn_index)) from {turns} as t where {join}), 0), c.avatar_id
            from (
                select {name} as schema, x.unit_id, x.idx, x.label, x.avatar_id, pg_temp.hh('continue:' || {name},
                       x.unit_id) as h
                from sim_schema as sc cross join lateral ({units}) as x (unit_id, idx, label, avatar_id)
                where sc.schema = {name}
                order by h
                limit (select n_continue from sim_schema where schema = {name})
            ) as c
            join {unit_table} as u on u.id = c.unit_id
            """
        ).format(name=sql.Literal(schema), units=units, turns=sql.Identifier(schema, turn_table(shape.layout)),
                 join=sql.SQL(join), unit_table=sql.Identifier(schema, unit_table(shape.layout))))
    # theme: the subtopic label (topic paths: second label; names: the title before ': '), else the root
    by_subtopic = """
        from sim_sub as sb
        where sb.theme_id = any(sc.themes)
          and (sc.layout = 'topic' and lower(sb.label) = lower(split_part(c.label, '.', 2))
               or sc.layout = 'legacy' and initcap(sb.title) = split_part(c.label, ': ', 1))
        order by sb.theme_id, sb.sub_n limit 1
    """
    writer.run(
        """
        update grow_continue as c
        set theme_id = coalesce(
                (select sb.theme_id """ + by_subtopic + """),
                (select th.theme_id from sim_theme as th where th.theme_id = any(sc.themes)
                 and split_part(c.label, '.', 1) = any(th.roots) order by th.theme_id limit 1),
                sc.themes[1]),
            sub_n = coalesce((select sb.sub_n """ + by_subtopic + """), 0),
            avatar_id = coalesce(c.avatar_id, 1),
            n_ex = case when c.n = 1 then 1 else 1 + mod(pg_temp.r(pg_temp.hh('more:' || c.schema, c.unit_id), 0), 3)
                   end,
            start_at = timestamptz {base} + mod(pg_temp.r(pg_temp.hh('more:' || c.schema, c.unit_id), 1), {window})
                       * interval '1 second'
        from sim_schema as sc
        where sc.schema = c.schema
        """,
        base=base_time, window=GROWTH_WINDOW_SECONDS,
    )


def plan_growth_exchanges(writer: Writer) -> None:
    """sim_ex and sim_turn (the columns `simulate` has) for new and continued units; turn ids after the last.

    No planted quirks. New units' turns are indexed 1, 2, ... as `simulate` does; continued units' after their
    trunc(MAX). The first continued unit of each schema gets a comment (fractional index); the first new unit
    uploads on exchanges 2 and 3 (legacy: one into grp_con_uploads, one into public)."""
    create_exchanges(
        writer,
        """
            select u.schema, u.unit_id, u.n, u.theme_id, u.sub_n, u.idx, u.avatar_id, u.template_topic_id,
                   u.created_on, u.n_ex, 0::numeric as index_base, false as continued
            from sim_unit as u
            union all
            select c.schema, c.unit_id, c.n, c.theme_id, c.sub_n, c.idx, c.avatar_id, null::int, c.start_at, c.n_ex,
                   c.index_base, true
            from grow_continue as c
        """,
        """
               sp.pid as speaker, (sp.avatar_id - b.n_ai - 1)::int as speaker_k,
               cp.pid as commenter, (cp.avatar_id - b.n_ai - 1)::int as commenter_k,
               false as odd_speaker,
               not b.continued and (b.n = 1 and b.e in (2, 3) or b.e > 1 and mod(pg_temp.r(b.m, 1), 33) = 5)
                   as is_upload,
               b.continued and b.n = 1 and b.e = 1 or mod(pg_temp.r(b.m, 2), 10) = 0 as has_comment,
               false as comment_avatar, false as dup_index, false as zero_user, false as zero_assistant,
               false as large, false as non_ascii, false as sql_like,
               b.index_base, b.continued
        """,
    )


def plan_growth_uploads(writer: Writer, ids_after: dict[str, tuple[int, int]]) -> None:
    """sim_upload and sim_chunk for the new uploads; `ids_after`: table key -> (last upload id, last chunk id).

    The first new legacy conversation uploads into grp_con_uploads on exchange 2, into public on exchange 3."""
    select_uploads(writer, grp_con_exchange=(1, 2), public_exchange=(1, 3))
    number_uploads(writer, ids_after)
