"""Per-tenant rows around the conversations: personas (with secrets in llm_config), groups and
memberships, preferences, the older event log, templates, and dev's own client tables.

Every footprint comes from the membership plan (sim_member): regular members get the usual footprints,
planted people exactly one kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql

from backstage_simulator import content
from backstage_simulator.data import BASE_TIME, Writer
from backstage_simulator.ddl import TENANTS
from backstage_simulator.plan import SchemaPlan
from backstage_simulator.public_data import CHAT_LLMS, LLMS, secret

GENERAL_AVATARS = ("Facilitator", "Note Taker")
LEGACY_ROLES = ("member", "member", "member", "admin", "owner", "Member", "facilitator", None)


def create_schema_table(writer: Writer, rows: Sequence[Mapping[str, Any]]) -> None:
    """sim_schema, one row per tenant schema of the plan. `rows` give the columns their caller knows (every row
    the same ones); the others keep their default. simulate gives the counts of its plan, a growth also where
    each schema's new ids start (unit_offset, turn_after, avatar_after), its groups and continued units."""
    writer.conn.execute(
        "create temp table sim_schema (schema text primary key, ordinal int, layout text, themes int[], units int,"
        " n_speakers int, n_ai int, n_groups int, unit_offset bigint default 0, group_ids bigint[],"
        " n_continue int, turn_after bigint default 0, avatar_after bigint)"
    )
    columns = list(rows[0])
    statement = sql.SQL("insert into sim_schema ({}) values ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    with writer.conn.cursor() as cursor:
        cursor.executemany(statement, [[row[column] for column in columns] for row in rows])


def create_avatar_table(writer: Writer) -> None:
    """sim_avatar: the AI avatars of each schema (their LLM answers the turns)."""
    writer.conn.execute(
        "create temp table sim_avatar (schema text, avatar_id int, theme_id int, llm_id int, name text,"
        " primary key (schema, avatar_id))"
    )


def plan_schemas(writer: Writer) -> None:
    """sim_schema from the plan (speakers and groups from sim_speaker), and the empty sim_avatar."""
    create_schema_table(writer, [
        {"schema": s.schema, "ordinal": s.ordinal, "layout": s.layout, "themes": list(s.theme_ids), "units": s.units,
         "n_ai": len(s.theme_ids) + len(GENERAL_AVATARS)}
        for s in writer.plan.schemas
    ])
    writer.conn.execute(
        "update sim_schema s set n_speakers = (select count(*) from sim_speaker p where p.schema = s.schema),"
        " n_groups = greatest(3, (select count(*) from sim_speaker p where p.schema = s.schema) / 8)"
    )
    create_avatar_table(writer)


def _avatar_config(seed: int, schema: SchemaPlan, avatar_id: int, llm_id: int, n_ai: int,
                   secrets: list[str]) -> dict:
    config: dict = {"model": LLMS[llm_id - 1][3], "temperature": 0.7, "llm_id": llm_id}

    def new(label: str, prefix: str) -> str:
        value = secret(seed, f"avatar:{schema.schema}:{avatar_id}:{label}", prefix)
        secrets.append(value)
        return value

    if avatar_id == 1:
        config["api_key"] = new("api_key", "sk-proj-")
    if avatar_id == 2:
        config["provider"] = {"name": "openai", "auth": {"token": new("token", "tok_")}}
    if avatar_id == n_ai:
        config["webhook"] = {"url": "https://hooks.example.net/notes", "secret": new("secret", "whsec_")}
        config["fallbacks"] = [{"provider": "groq", "key": new("key", "gsk_")}]
    if avatar_id == n_ai - 1 and schema.layout == "legacy":
        config["password"] = new("password", "pw-")
    return config


def write_personas(writer: Writer, schema: SchemaPlan, secrets: list[str]) -> None:
    """Avatar scopes and AI avatars (one per theme, then the general ones); legacy: one avatar per member
    (their voice in turns) and one whose owner is gone."""
    s = schema.schema
    writer.insert_rows(s, "avatar_scopes", ["id", "name"], [(1, "private"), (2, "group"), (3, "public")])
    names = [content.THEMES[t - 1].avatar for t in schema.theme_ids] + list(GENERAL_AVATARS)
    rows, plan_rows = [], []
    for avatar_id, name in enumerate(names, start=1):
        theme_id = schema.theme_ids[avatar_id - 1] if avatar_id <= len(schema.theme_ids) else None
        llm_id = 1 + (avatar_id + schema.ordinal) % CHAT_LLMS
        config = _avatar_config(writer.plan.seed, schema, avatar_id, llm_id, len(names), secrets)
        instructions = f"You are {name}. Answer questions about {content.THEMES[(theme_id or 1) - 1].name} kindly."
        rows.append((avatar_id, name, instructions, 3 if theme_id else 2, json.dumps(config), BASE_TIME))
        plan_rows.append((s, avatar_id, theme_id, llm_id, name))
    writer.insert_rows(s, "avatars", ["id", "name", "instruction_set", "avatar_scope_id", "llm_config",
                                      "created_at"], rows)
    with writer.conn.cursor() as cursor:
        cursor.executemany("insert into sim_avatar values (%s, %s, %s, %s, %s)", plan_rows)
    if schema.layout == "legacy":
        writer.insert(
            s, "avatars",
            """
            insert into {target} (id, name, instruction_set, avatar_scope_id, llm_config, created_at)
            select sc.n_ai + 1 + sp.k, p.name || ' (' || p.pid || ')', 'Speaks for ' || p.name, 1, null::jsonb,
                   p.created_at + interval '1 day'
            from sim_speaker as sp
            join sim_schema as sc on sc.schema = sp.schema
            join sim_people as p on p.pid = sp.pid
            where sp.schema = {s}
            union all
            select sc.n_ai + sc.n_speakers + 1, 'Guest (deleted account)', null, 1, null, timestamptz {base}
            from sim_schema as sc where sc.schema = {s}
            order by 1
            """,
            s=s, base=BASE_TIME,
        )


def write_groups(writer: Writer, schema: SchemaPlan) -> None:
    s = schema.schema
    has_type = schema.layout == "topic" or TENANTS[s].group_type_column
    writer.insert(
        s, "groups",
        """
        insert into {target} (id, name, description, created_at{type_column})
        select g, initcap(th.name) || ' group ' || g, 'Members interested in ' || th.name,
               timestamptz {base} + g * interval '2 days'{type_value}
        from sim_schema as sc
        cross join generate_series(1, sc.n_groups) as g
        join sim_theme as th on th.theme_id = sc.themes[1 + mod(g, cardinality(sc.themes))]
        where sc.schema = {s}
        order by g
        """,
        s=s, base=BASE_TIME,
        type_column=sql.SQL(", group_type_id" if has_type else ""),
        type_value=sql.SQL(", 1 + mod(g, 4)" if has_type else ""),
    )
    if schema.layout == "topic":
        role_column, role_value = "participant_role_id", (
            "case when mod(r, 20) = 0 then 1 when mod(r, 20) < 5 then 2 when mod(r, 20) = 19 then 4 else 3 end")
    else:
        role_column, role_value = "role", "pg_temp.pick({roles}::text[], r)"
    writer.insert(
        s, "participant_groups",
        """
        insert into {target} (participant_id, group_id, {role_column}, created_at)
        select pid, group_id, """ + role_value + """, timestamptz {base} + mod(r, 8000000) * interval '1 second'
        from (
            select m.pid, g.group_id, pg_temp.r(h.m, 3) as r
            from sim_member as m
            join sim_schema as sc on sc.schema = m.schema
            cross join lateral (select pg_temp.hh('groups:' || m.schema, m.pid) as m) as h
            cross join lateral (
                select 1 + mod(pg_temp.r(h.m, 0), sc.n_groups) as g1
            ) as first
            cross join lateral (
                select first.g1 as group_id where m.kind in ('regular', 'participant_groups')
                union all
                select 1 + mod(first.g1 + mod(pg_temp.r(h.m, 2), sc.n_groups - 1), sc.n_groups)
                where m.kind = 'regular' and mod(pg_temp.r(h.m, 1), 5) = 0
            ) as g
            where m.schema = {s}
        ) as x
        order by pid, group_id
        """,
        s=s, base=BASE_TIME, role_column=sql.Identifier(role_column), roles=list(LEGACY_ROLES),
    )


def write_memberships(writer: Writer, schema: SchemaPlan) -> None:
    """participant_avatars, participant_llms, participant_preferences, participant_events."""
    s = schema.schema
    if schema.layout == "legacy":
        personal = "select sp.pid, sc.n_ai + 1 + sp.k from sim_speaker sp join sim_schema sc on sc.schema = sp.schema" \
                   " where sp.schema = {s}"
    else:
        personal = ("select m.pid, 1 + mod(pg_temp.r(pg_temp.hh('favourite:' || m.schema, m.pid), 0), sc.n_ai)"
                    " from sim_member m join sim_schema sc on sc.schema = m.schema where m.schema = {s}"
                    " and m.kind = 'regular' and mod(pg_temp.r(pg_temp.hh('favourite:' || m.schema, m.pid), 1), 3) = 0")
    writer.insert(
        s, "participant_avatars",
        """
        insert into {target} (participant_id, avatar_id, created_at)
        select pid, avatar_id, timestamptz {base} + pid * interval '1 hour'
        from (
            """ + personal + """
            union all
            select pid, 1 from sim_member where schema = {s} and kind = 'participant_avatars'
        ) as x (pid, avatar_id)
        order by 1, 2
        """,
        s=s, base=BASE_TIME,
    )
    writer.insert(
        s, "participant_llms",
        """
        insert into {target} (participant_id, llm_id, created_at)
        select m.pid, case when m.kind = 'regular' then 1 + mod(pg_temp.r(h.m, 1), {chat}) else 2 end,
               timestamptz {base} + m.pid * interval '1 hour'
        from sim_member as m
        cross join lateral (select pg_temp.hh('llms:' || m.schema, m.pid) as m) as h
        where m.schema = {s} and (m.kind = 'participant_llms' or m.kind = 'regular' and mod(pg_temp.r(h.m, 0), 4) = 0)
        order by 1
        """,
        s=s, base=BASE_TIME, chat=CHAT_LLMS,
    )
    # a history: the same person and type repeat with different values
    writer.insert(
        s, "participant_preferences",
        """
        insert into {target} (id, participant_id, preference_type_id, value, created_at)
        select row_number() over (order by m.pid, j), m.pid, case when j = 3 then 3 else 1 end,
               case when j = 3 then 2 else 1 + mod(pg_temp.r(h.m, 1) + j, sc.n_ai) end,
               timestamptz {base} + m.pid * interval '1 hour' + j * interval '9 days'
        from sim_member as m
        join sim_schema as sc on sc.schema = m.schema
        cross join lateral (select pg_temp.hh('prefs:' || m.schema, m.pid) as m) as h
        cross join generate_series(1, 3) as j
        where m.schema = {s}
          and (m.kind = 'participant_preferences' and j = 1
               or m.kind = 'regular' and mod(pg_temp.r(h.m, 0), 3) = 0 and (j < 3 or mod(pg_temp.r(h.m, 2), 2) = 0))
        """,
        s=s, base=BASE_TIME,
    )
    writer.insert(
        s, "participant_events",
        """
        insert into {target} (id, participant_id, event_type_id, details, created_at)
        select row_number() over (order by m.pid, j), m.pid, (array[101, 201, 301])[j],
               case j when 1 then jsonb_build_object('ip', '198.51.100.' || mod(m.pid, 250), 'agent', 'web')
                      when 2 then jsonb_build_object('topic', mod(pg_temp.r(h.m, 1), 50) + 1)
                      else jsonb_build_object('filename', 'notes-' || m.pid || '.pdf') end,
               timestamptz {base} + mod(pg_temp.r(h.m, 2), 24000000) * interval '1 second' + j * interval '1 hour'
        from sim_member as m
        cross join lateral (select pg_temp.hh('events:' || m.schema, m.pid) as m) as h
        cross join generate_series(1, 3) as j
        where m.schema = {s}
          and (m.kind = 'participant_events' and j = 1
               or m.kind = 'regular' and mod(pg_temp.r(h.m, 0), 2) = 0 and j <= 1 + mod(pg_temp.r(h.m, 3), 3))
        """,
        s=s, base=BASE_TIME,
    )
    writer.insert(
        s, "group_preferences",
        """
        insert into {target} (id, group_id, preference_type_id, value, created_at)
        select g, g, 5, g * 10, timestamptz {base} + g * interval '3 days'
        from sim_schema as sc cross join generate_series(1, sc.n_groups) as g where sc.schema = {s}
        """,
        s=s, base=BASE_TIME,
    )
    writer.insert_rows(s, "site_preferences", ["id", "preference_type_id", "value", "created_at"],
                       [(1, 1, 1, BASE_TIME), (2, 2, 1, BASE_TIME), (3, 3, 1, BASE_TIME)])


def write_templates(writer: Writer, schema: SchemaPlan) -> None:
    """Two templates by regular members (a third by the person whose only footprint that is)."""
    s = schema.schema
    writer.insert(
        s, "grp_templates",
        """
        insert into {target} (id, group_id, name, created_by_participant_id, created_at)
        select t, 1, 'Template ' || t || ': ' || th.name || ' series', sp.pid, timestamptz {base} + t * interval '5 days'
        from sim_schema as sc
        cross join generate_series(1, 2) as t
        join sim_theme as th on th.theme_id = sc.themes[1]
        left join sim_speaker as sp on sp.schema = sc.schema and sp.k = t - 1
        where sc.schema = {s}
        union all
        select 3, 1, 'Template 3: imported', m.pid, timestamptz {base} + interval '20 days'
        from sim_member as m where m.schema = {s} and m.kind = 'template_created_by'
        order by 1
        """,
        s=s, base=BASE_TIME,
    )
    writer.insert(
        s, "grp_template_topics",
        """
        insert into {target} (id, template_id, title, content, topic_index, created_at)
        select row_number() over (order by t.id, j), t.id, sb.title || ' (part ' || j || ')',
               'Discuss ' || sb.title || ' using: ' || array_to_string(sb.words, ', '),
               (array[1.00, 2.00, 2.50])[j], t.created_at + j * interval '1 minute'
        from {templates} as t
        cross join generate_series(1, 3) as j
        join sim_schema as sc on sc.schema = {s}
        join sim_sub as sb on sb.theme_id = sc.themes[1] and sb.sub_n = mod(j, 2)
        """,
        s=s, templates=sql.Identifier(s, "grp_templates"),
    )


def write_client_tables(writer: Writer) -> None:
    """dev's clients, client_schemas and client_schema_preferences (structure used by the app only)."""
    names = {"dev": "Development", "bsa": "BSA", "conflict_club": "Conflict Club",
             "first_congregational": "First Congregational", "timethatremains": "Time That Remains"}
    writer.insert_rows("dev", "clients", ["id", "name", "created_at"],
                       [(i, name, BASE_TIME) for i, name in enumerate(names.values(), start=1)])
    writer.insert_rows("dev", "client_schemas", ["id", "client_id", "schema_name", "created_at"],
                       [(i, i, schema, BASE_TIME) for i, schema in enumerate(names, start=1)])
    writer.insert_rows("dev", "client_schema_preferences",
                       ["id", "client_schema_id", "preference_type_id", "value", "created_at"],
                       [(i, i, 3, "light" if i % 2 else "dark", BASE_TIME) for i in range(1, len(names) + 1)])
