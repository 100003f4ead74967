"""Topics (topic layout) and conversations (legacy layout), their turns, and the file uploads.

The plan is built in three temporary tables before anything is written:
- sim_unit: one row per topic or conversation (also the ones whose row is missing: `present` false),
- sim_ex: one row per exchange (a user prompt, the answer, sometimes a comment), with its quirk flags,
- sim_turn: one row per turn with its final id, speaker, index, kind and time,
and sim_upload / sim_chunk for the files. Tenant tables are then filled from them with INSERT ... SELECT.

Fixed ordinals plant the quirks in every schema (unit n of that schema, exchange e):
n=1 topic index `1_0` (dev: its first answer is the >1 MB turn), n=2 index `1_01`, a comment by an avatar,
a repeated turn_index, a zero vector, dev's footprint-only speaker, non-ASCII and SQL-looking text;
n=3 missing topic/conversation; n=4 an upload in late May (two rows); n=5 in March (llm_id bug);
n=6 a missing speaker (legacy: an avatar nobody owns) and an upload (legacy: into grp_con_uploads);
n=7 topic created by the footprint-only creator (first_congregational).
"""

from __future__ import annotations

from collections.abc import Mapping

from psycopg import sql

from backstage_simulator import content
from backstage_simulator.data import BASE_TIME, LATE_MAY, VECTOR_VARIANTS, Writer
from backstage_simulator.ddl import TENANTS
from backstage_simulator.plan import SchemaPlan

MISSING_SPEAKER_IDS = (50, 50)  # deleted accounts 50..99: (first, how many)
LLM_BUG_FROM, LLM_BUG_TO = "2025-03-01 00:00:00+00", "2025-04-01 00:00:00+00"
LEAF_LABELS = ("Chapter-", "Session_", "Week-", "Part_")
CONVERSATION_KINDS = ("Kickoff", "Follow-up", "Q&A", "Planning session", "Check-in")


def create_plan_tables(writer: Writer) -> None:
    writer.conn.execute(
        """
        create temp table sim_unit (
            schema text, n int, unit_id bigint, theme_id int, sub_n int, path text, name text, idx text,
            created_by bigint, created_on timestamptz, n_ex int, present bool, kind text, avatar_id int,
            template_topic_id int, group_id int, parent_id bigint, type_id int, template_id int,
            primary key (schema, unit_id)
        )
        """
    )


# a unit's AI avatar (ids 1.. are the schema's theme personas, the last two the general ones): mostly its
# theme's persona, one unit in five a general avatar
UNIT_AVATAR = """
    case when mod(pg_temp.r(m3, 1), 5) = 0 then sc.n_ai - mod(pg_temp.r(m3, 2), 2)
         else array_position(sc.themes, th.theme_id) end
"""


# created_on, n_ex and present of unit n, with the planted ordinals: n=4 in late May, n=5 in March, the first
# seven with seven exchanges, n=3 (and one in fifty after n=10, never the last) missing
UNIT_LIFE = """
    case n when 4 then timestamptz '2025-05-25 10:00:00+00' when 5 then timestamptz '2025-03-10 10:00:00+00'
        else timestamptz {base} + mod(pg_temp.r(m2, 1), 24000000) * interval '1 second' end,
    case when n <= 7 then 7 else 3 + mod(pg_temp.r(m2, 3), 15) end,
    not (n = 3 or n > 10 and n < sc.units and mod(pg_temp.r(m3, 0), 50) = 0)
"""


def unit_draws(tag: str) -> str:
    """The FROM clause that draws the units n = 1..sc.units of every sim_schema row sc: three hashes m, m2,
    m3 keyed by (`tag`, schema, n), and the unit's theme th and subtopic sb, chosen by m."""
    return f"""
        from sim_schema as sc
        cross join generate_series(1, sc.units) as n
        cross join lateral (
            select pg_temp.hh('{tag}:' || sc.schema, n) as m, pg_temp.hh('{tag}2:' || sc.schema, n) as m2,
                   pg_temp.hh('{tag}3:' || sc.schema, n) as m3
        ) as h
        join sim_theme as th on th.theme_id = sc.themes[1 + mod(pg_temp.r(m, 0), cardinality(sc.themes))]
        join sim_sub as sb on sb.theme_id = th.theme_id and sb.sub_n = mod(pg_temp.r(m, 1), th.n_subs)
    """


def plan_topics(writer: Writer, schema: SchemaPlan, offset: int) -> int:
    """Leaf topics, then some of their parents (others stay missing), then one case variant.
    Ids continue `offset` (the topic id sequence is shared by all topic schemas). Returns the last id."""
    s = schema.schema
    writer.run(
        """
        insert into sim_unit (schema, n, unit_id, theme_id, sub_n, path, idx, created_by, created_on, n_ex, present,
                              kind, avatar_id, template_topic_id)
        select sc.schema, n, {offset} + n, th.theme_id, sb.sub_n,
               pg_temp.pick(th.roots, pg_temp.r(m, 2)) || '.' || sb.label || '.'
                   || pg_temp.pick({leaves}::text[], pg_temp.r(m, 3)) || n,
               case when n = 1 then '1_0' when n = 2 then '1_01'
                    when mod(pg_temp.r(m2, 0), 20) = 0 then n || '_0'
                    when mod(pg_temp.r(m2, 0), 20) = 1 then n || '_01'
                    else n::text end,
               case when n = 7 and fp.pid is not null then fp.pid
                    when mod(pg_temp.r(m2, 2), 10) = 0 then null else sp.pid end,
               """ + UNIT_LIFE + """,
               'leaf',
               """ + UNIT_AVATAR + """,
               case when mod(pg_temp.r(m3, 3), 8) = 0 then 1 + mod(pg_temp.r(m3, 3) / 8, 6) end
        """ + unit_draws("topic") + """
        left join sim_speaker as sp on sp.schema = sc.schema and sp.k = mod(pg_temp.r(m2, 2), sc.n_speakers)
        left join sim_member as fp on fp.schema = sc.schema and fp.kind = 'topic_created_by'
        where sc.schema = {s}
        """,
        s=s, offset=offset, base=BASE_TIME, leaves=list(LEAF_LABELS),
    )
    # parents: depth 1 and 2 paths of the leaves; about half exist. Leaf 1's parent always exists and its
    # root never does, so "a parent row whose own parent is missing" is always there.
    writer.run(
        """
        insert into sim_unit (schema, n, unit_id, theme_id, sub_n, path, idx, created_by, created_on, n_ex, present,
                              kind, avatar_id)
        select {s}, sc.units + rn, {offset} + sc.units + rn, theme_id, sub_n, ppath, (sc.units + rn)::text,
               created_by, created_on - interval '1 day', 2, true, 'parent', avatar_id
        from (
            select p.*, row_number() over (order by p.depth, p.ppath) as rn
            from (
                select distinct on (x.ppath) x.ppath, x.depth, t.theme_id, t.sub_n, t.created_by, t.created_on,
                       t.avatar_id, t.n
                from sim_unit as t
                cross join lateral (
                    values (split_part(t.path, '.', 1), 1),
                           (split_part(t.path, '.', 1) || '.' || split_part(t.path, '.', 2), 2)
                ) as x (ppath, depth)
                where t.schema = {s} and t.kind = 'leaf'
                order by x.ppath, t.n
            ) as p
            cross join lateral (select pg_temp.hh('parent:' || {s} || ':' || p.ppath, 0) as m) as h
            where (mod(pg_temp.r(h.m, 0), 2) = 0 or p.depth = 2 and p.ppath = (
                       select split_part(path, '.', 1) || '.' || split_part(path, '.', 2)
                       from sim_unit where schema = {s} and n = 1))
              and not (p.depth = 1 and p.ppath = (select split_part(path, '.', 1) from sim_unit
                                                 where schema = {s} and n = 1))
        ) as q
        cross join sim_schema as sc
        where sc.schema = {s}
        """,
        s=s, offset=offset,
    )
    writer.conn.execute("analyze sim_unit")
    # a path that differs from another only in case
    writer.run(
        """
        insert into sim_unit (schema, n, unit_id, theme_id, sub_n, path, idx, created_by, created_on, n_ex, present,
                              kind, avatar_id)
        select {s}, last.n + 1, {offset} + last.n + 1, t.theme_id, t.sub_n, lower(t.path), (last.n + 1)::text,
               t.created_by, t.created_on + interval '2 days', 3, true, 'case_variant', t.avatar_id
        from sim_unit as t
        cross join (select max(n) as n from sim_unit where schema = {s}) as last
        where t.schema = {s} and t.kind = 'leaf' and t.present
          and not exists (select 1 from sim_unit as o where o.schema = {s} and o.path = lower(t.path))
        order by t.n
        limit 1
        """,
        s=s, offset=offset,
    )
    return writer.conn.execute("select max(unit_id) from sim_unit where schema = %s", (s,)).fetchone()[0]


def plan_conversations(writer: Writer, schema: SchemaPlan) -> None:
    """Legacy grp_cons: some nested under an earlier one; conflict_club's last one under a bsa-only id."""
    s = schema.schema
    cross_parent = TENANTS[s].parent_schema
    writer.run(
        """
        insert into sim_unit (schema, n, unit_id, theme_id, sub_n, name, created_on, n_ex, present, kind, avatar_id,
                              template_topic_id, group_id, parent_id, type_id, template_id)
        select sc.schema, n, n, th.theme_id, sb.sub_n,
               initcap(sb.title) || ': ' || pg_temp.pick({kinds}::text[], pg_temp.r(m, 2)) || ' #' || n,
               """ + UNIT_LIFE + """,
               'conversation',
               """ + UNIT_AVATAR + """,
               case when mod(pg_temp.r(m2, 0), 7) = 0 then 3 * (1 + mod(pg_temp.r(m2, 0) / 7, 2)) - mod(n, 3) end,
               1 + mod(pg_temp.r(m, 3), sc.n_groups),
               case when n = sc.units and {cross_schema} is not null
                        then (select units from sim_schema where schema = {cross_schema})
                    when n > 3 and mod(pg_temp.r(m2, 2), 5) = 0 then 1 + mod(pg_temp.r(m3, 3), n - 1) end,
               1 + mod(pg_temp.r(m3, 2), 3),
               case when mod(pg_temp.r(m2, 0), 7) = 0 then 1 + mod(pg_temp.r(m2, 0) / 7, 2) end
        """ + unit_draws("con") + """
        where sc.schema = {s}
        """,
        s=s, base=BASE_TIME, kinds=list(CONVERSATION_KINDS), cross_schema=cross_parent,
    )
    # a parent must exist where the foreign key points (its own schema, or bsa for conflict_club)
    writer.run(
        """
        update sim_unit as c set parent_id = null
        where c.schema = {s} and c.parent_id is not null and not (c.n = (select units from sim_schema where schema = {s})
                                                                  and {cross_schema} is not null)
          and (not exists (select 1 from sim_unit p where p.schema = {s} and p.unit_id = c.parent_id and p.present)
               or not exists (select 1 from sim_unit p where p.schema = coalesce({cross_schema}, {s})
                              and p.unit_id = c.parent_id and p.present))
        """,
        s=s, cross_schema=cross_parent,
    )


def create_exchanges(writer: Writer, units: str, columns: str, joins: str = "") -> None:
    """sim_ex, one row per exchange e = 1..u.n_ex of every unit u of the query `units` (sim_unit's columns), then
    sim_turn from it. Every exchange gets its hash m, keyed by (schema, unit_id * 1000 + e), its time, speaker sp
    and commenter cp (sim_speaker rows it draws), and the llm_id bug of its month; `columns` (over `b`, `sp`,
    `cp` and `joins`) give its speaker, speaker_k, commenter, commenter_k, quirk flags, index_base and the like."""
    # hashes and speaker positions first, then plain equi-joins (temp tables have no statistics: keep the
    # planner away from nested loops that recompute hashes)
    writer.run(
        """
        create temp table sim_ex as
        with units as (""" + units + """), base as materialized (
            select u.*, sc.layout, sc.n_ai, sc.n_speakers, e, h.m,
                   mod(pg_temp.r(h.m, 0), sc.n_speakers) as sk, mod(pg_temp.r(h.m, 3) / 64, sc.n_speakers) as ck
            from units as u
            join sim_schema as sc on sc.schema = u.schema
            cross join generate_series(1, u.n_ex) as e
            cross join lateral (select pg_temp.hh('ex:' || u.schema, u.unit_id * 1000 + e) as m) as h
        )
        select b.schema, b.layout, b.unit_id, b.n, b.e, b.unit_id * 1000 + b.e as key, b.m, b.theme_id, b.sub_n,
               b.idx, b.avatar_id, b.template_topic_id, b.n_ai, b.n_speakers, x.created_at,
               """ + columns + """,
               b.layout = 'topic' and x.created_at >= {llm_bug_from} and x.created_at < {llm_bug_to} as llm_bug
        from base as b
        cross join lateral (
            select b.created_on + b.e * interval '17 minutes' + mod(pg_temp.r(b.m, 2), 600) * interval '1 second'
                       as created_at
        ) as x
        join sim_speaker as sp on sp.schema = b.schema and sp.k = b.sk
        join sim_speaker as cp on cp.schema = b.schema and cp.k = b.ck
        """ + joins,
        llm_bug_from=LLM_BUG_FROM, llm_bug_to=LLM_BUG_TO,
    )
    writer.conn.execute("create unique index on sim_ex (schema, key)")
    writer.conn.execute("analyze sim_ex")
    plan_turns(writer)


def plan_exchanges(writer: Writer) -> None:
    """sim_ex (exchanges with their planted quirks) and sim_turn (turns with final ids), all schemas at once."""
    create_exchanges(
        writer, "select * from sim_unit",
        """
               case when b.n = 2 and b.e = 3 and fp.pid is not null then fp.pid else sp.pid end as speaker,
               sp.k as speaker_k, cp.pid as commenter, cp.k as commenter_k,
               (b.n = 6 and b.e = 1 or mod(pg_temp.r(b.m, 1), 400) = 13) as odd_speaker,
               (b.n = 4 and b.e = 1 or b.n = 6 and b.e = 2
                or b.e > 1 and b.n <> 2 and mod(pg_temp.r(b.m, 1), 33) = 5 and mod(pg_temp.r(b.m, 1), 400) <> 13)
                   as is_upload,
               (b.n = 2 and b.e = 1 or mod(pg_temp.r(b.m, 2), 10) = 0) as has_comment,
               (b.n = 2 and b.e = 1 or mod(pg_temp.r(b.m, 2), 10) = 0 and mod(pg_temp.r(b.m, 3), 4) = 0)
                   and b.layout = 'topic' as comment_avatar,
               (b.n = 2 and b.e = 2 or mod(pg_temp.r(b.m, 3) / 4, 60) = 1) as dup_index,
               b.layout = 'topic' and (b.n = 2 and b.e = 3 or mod(pg_temp.r(b.m, 0) / 5, 40) = 3) as zero_user,
               b.layout = 'topic' and mod(pg_temp.r(b.m, 0) / 7, 40) = 4 as zero_assistant,
               b.schema = 'dev' and b.n = 1 and b.e = 1 as large,
               b.n = 2 and b.e = 4 as non_ascii,
               b.n = 2 and b.e = 5 as sql_like,
               0::numeric as index_base
        """,
        "left join (select schema, pid from sim_member where kind = 'turn') as fp on fp.schema = b.schema",
    )


def plan_turns(writer: Writer) -> None:
    """sim_turn: the prompt, the answer and the comment (if any) of every exchange in sim_ex, with its id
    (per schema, after sim_schema.turn_after), turn_index (after sim_ex.index_base: 2e - 1, 2e, a comment at
    2e + 0.5; a `dup_index` answer repeats its prompt's index), kind, message type and time."""
    writer.run(
        """
        create temp table sim_turn as
        select x.*,
               sc.turn_after + row_number() over (partition by x.schema order by x.unit_id, x.e, x.role) as id,
               x.index_base + case x.role when 1 then 2 * x.e - 1
                                          when 2 then case when x.dup_index then 2 * x.e - 1 else 2 * x.e end
                                          else 2 * x.e + 0.5 end as turn_index,
               case x.role when 1 then 1 when 2 then 2 else 3 end as kind_id,
               case x.role when 2 then 2 else 1 end as message_type_id,
               x.created_at + case x.role when 1 then 0 when 2 then 5 + mod(pg_temp.r(x.m, 0) / 3, 55)
                   else 10800 end * interval '1 second' as turn_created_at
        from (
            select ex.*, role
            from sim_ex as ex cross join generate_series(1, 3) as role
            where role < 3 or ex.has_comment
        ) as x
        join sim_schema as sc on sc.schema = x.schema
        """
    )
    writer.conn.execute("create unique index on sim_turn (schema, id)")
    writer.conn.execute("create index on sim_turn (schema, key, role)")
    writer.conn.execute("analyze sim_turn")


def plan_uploads(writer: Writer) -> None:
    """sim_upload: one row per uploaded file (ids of its one or two rows), sim_chunk: its 1000-character chunks."""
    select_uploads(writer, grp_con_exchange=(6, 2), public_exchange=(4, 1))
    # public uploads no turn mentions: old dev ones, and ones whose bucket names no schema (unattributable)
    writer.run(
        """
        insert into sim_upload
        select 'public', -n, null, 1 + mod(n, 8), 0,
               timestamptz {base} + n * interval '13 days',
               case when n <= 2 then 'dev' when mod(n, 3) = 0 then null
                    when mod(n, 3) = 1 then 'backstage-uploads' else 'Old_Tenant' end,
               'public',
               pg_temp.pick(tp.stems, n) || '-archive-' || n || '.' || pg_temp.pick(tp.extensions, n),
               pg_temp.pick(tp.mimes, n), 300 + 700 * mod(n, 4), pg_temp.hh('public-upload', n)
        from generate_series(1, 2 + {unattributable}) as n
        cross join sim_tpl as tp
        """,
        base=BASE_TIME, unattributable=writer.plan.unattributable_uploads,
    )
    number_uploads(writer)


def select_uploads(writer: Writer, grp_con_exchange: tuple[int, int], public_exchange: tuple[int, int]) -> None:
    """sim_upload: the file of every uploading exchange in sim_ex and the table it goes to.

    Topic layout: the schema's own file_uploads. Legacy layout: grp_con_uploads or public.file_uploads at
    random, except the exchanges (unit n, exchange e) `grp_con_exchange` and `public_exchange`, planted so
    that every legacy schema has both."""
    writer.run(
        """
        create temp table sim_upload as
        select ex.schema, ex.key, ex.unit_id, ex.theme_id, ex.sub_n, ex.created_at as uploaded_at, ex.schema as bucket,
               case when ex.layout = 'topic' then 'tenant' when ex.n = {grp_con_n} and ex.e = {grp_con_e} then 'grp_con'
                    when ex.n = {public_n} and ex.e = {public_e} or mod(pg_temp.r(h.m, 3), 2) = 0 then 'public'
                    else 'grp_con' end as target,
               pg_temp.pick(tp.stems, pg_temp.r(h.m, 0)) || '-' || ex.key || '.'
                   || pg_temp.pick(tp.extensions, pg_temp.r(h.m, 1)) as filename,
               pg_temp.pick(tp.mimes, pg_temp.r(h.m, 1)) as mime_type,
               400 + mod(pg_temp.r(h.m, 2), 5200) as doc_len,
               h.m
        from sim_ex as ex
        cross join sim_tpl as tp
        cross join lateral (select pg_temp.hh('upload:' || ex.schema, ex.key) as m) as h
        where ex.is_upload
        """,
        grp_con_n=grp_con_exchange[0], grp_con_e=grp_con_exchange[1],
        public_n=public_exchange[0], public_e=public_exchange[1],
    )


def number_uploads(writer: Writer, ids_after: Mapping[str, tuple[int, int]] | None = None) -> None:
    """Give every planned upload its row ids (two rows from late May on, except grp_con_uploads), then plan
    its chunks. Ids are numbered per target table (`table_key`: 'public', '<schema>.tenant' or
    '<schema>.grp_con') after `ids_after`: table key -> (last upload id, last chunk id) in use (default 0)."""
    writer.conn.execute("create temp table sim_id_after (table_key text primary key, upload_after bigint,"
                        " chunk_after bigint)")
    with writer.conn.cursor() as cursor:
        cursor.executemany("insert into sim_id_after values (%s, %s, %s)",
                           [(key, uploads, chunks) for key, (uploads, chunks) in (ids_after or {}).items()])
    writer.run(
        """
        alter table sim_upload add column two_rows bool, add column table_key text, add column temp_id bigint,
            add column storage_id bigint
        """
    )
    writer.run(
        """
        update sim_upload set two_rows = target <> 'grp_con' and uploaded_at >= {late_may},
                              table_key = case when target = 'public' then 'public' else schema || '.' || target end
        """,
        late_may=LATE_MAY,
    )
    writer.run(
        """
        update sim_upload as u set temp_id = case when u.two_rows then x.last_id - 1 end, storage_id = x.last_id
        from (
            select s.schema, s.key, coalesce(a.upload_after, 0) + sum(case when s.two_rows then 2 else 1 end)
                       over (partition by s.table_key order by s.uploaded_at, s.schema, s.key) as last_id
            from sim_upload as s left join sim_id_after as a on a.table_key = s.table_key
        ) as x
        where x.schema = u.schema and x.key = u.key
        """
    )
    writer.conn.execute("create unique index on sim_upload (schema, key)")
    writer.conn.execute("create unique index on sim_upload (table_key, storage_id)")
    writer.conn.execute("analyze sim_upload")
    plan_chunks(writer)


def plan_chunks(writer: Writer) -> None:
    """sim_chunk: each planned upload's document text in 1000-character chunks, ids numbered per target table
    after the table's `chunk_after` in sim_id_after."""
    writer.run(
        """
        create temp table sim_chunk as
        select d.table_key, d.schema, d.storage_id, d.theme_id, c.i as chunk_index,
               substr(d.doc, 1 + 1000 * c.i, 1000) as content_text,
               coalesce(a.chunk_after, 0) + row_number() over (partition by d.table_key order by d.storage_id, c.i)
                   as id
        from (
            select u.table_key, u.schema, u.storage_id, u.theme_id,
                   left(string_agg(
                       pg_temp.fill(pg_temp.pick(tp.document, pg_temp.r(h.m, 0)),
                                    pg_temp.pick(sb.words, pg_temp.r(h.m, 1)), pg_temp.pick(th.words, pg_temp.r(h.m, 2)),
                                    sb.title, u.filename, i::text),
                       ' ' order by i), u.doc_len) as doc
            from sim_upload as u
            cross join generate_series(1, u.doc_len / 30 + 2) as i
            cross join lateral (select pg_temp.hh('doc:' || u.schema || ':' || u.key, i) as m) as h
            cross join sim_tpl as tp
            join sim_theme as th on th.theme_id = u.theme_id
            join sim_sub as sb on sb.theme_id = u.theme_id and sb.sub_n = u.sub_n
            group by u.table_key, u.schema, u.key, u.storage_id, u.theme_id, u.doc_len
        ) as d
        cross join generate_series(0, (length(d.doc) - 1) / 1000) as c (i)
        left join sim_id_after as a on a.table_key = d.table_key
        """
    )


TURN_CONTENT = """
    case
        when t.role = 1 and up.key is not null
            then 'File uploaded: ' || up.filename || ' (ID: ' || up.storage_id || ')'
        when t.role = 1 then pg_temp.fill(pg_temp.pick(tp.questions, pg_temp.r(h.m, 0)), w.a, w.b, sb.title, null, null)
        when t.role = 2 and up.key is not null
            then pg_temp.fill(pg_temp.pick(tp.upload_answers, pg_temp.r(h.m, 0)), w.a, w.b, sb.title, up.filename, null)
        when t.role = 2 then pg_temp.fill(
            pg_temp.pick(tp.openers, pg_temp.r(h.m, 0)) || ' ' || tp.sentences[1 + w.i1] || ' ' || tp.sentences[1 + w.i2],
            w.a, w.b, sb.title, null, null)
        else pg_temp.fill(pg_temp.pick(tp.comments, pg_temp.r(h.m, 0)), w.a, w.b, sb.title, null, null)
    end
"""

TURN_SOURCE = """
    from sim_turn as t
    cross join lateral (select pg_temp.hh('turn:' || t.schema, t.id) as m) as h
    cross join sim_tpl as tp
    join sim_theme as th on th.theme_id = t.theme_id
    join sim_sub as sb on sb.theme_id = t.theme_id and sb.sub_n = t.sub_n
    cross join lateral (
        select pg_temp.pick(sb.words, pg_temp.r(h.m, 1)) as a, pg_temp.pick(th.words, pg_temp.r(h.m, 2)) as b,
               mod(pg_temp.r(h.m, 3), cardinality(tp.sentences)) as i1,
               mod(mod(pg_temp.r(h.m, 3), cardinality(tp.sentences)) + 1
                   + mod(pg_temp.r(h.m, 3) / 16, cardinality(tp.sentences) - 1), cardinality(tp.sentences)) as i2
    ) as w
    left join sim_upload as up on up.schema = t.schema and up.key = t.key
"""


def write_topics(writer: Writer, schema: SchemaPlan) -> None:
    s = schema.schema
    writer.insert(
        s, "topic_paths",
        """
        insert into {target} (id, path, index, created_by, created_on)
        select unit_id, path::ltree, idx, created_by, created_on
        from sim_unit where schema = {s} and present order by unit_id
        """,
        s=s,
    )
    writer.insert(
        s, "grp_topic_avatars",
        """
        insert into {target} (topic_path_id, avatar_id, created_at)
        select idx, avatar_id, created_on from sim_unit where schema = {s} order by idx
        """,
        s=s,
    )
    topic_column, topic_value = (
        ("topicpathid", "t.idx") if TENANTS[s].topic_reference == "topicpathid" else ("topic_id", "t.unit_id")
    )
    writer.insert(
        s, "grp_topic_avatar_turns",
        """
        insert into {target} (id, {topic_column}, avatar_id, participant_id, llm_id, turn_index, content_text,
                              content_vector, turn_kind_id, message_type_id, template_topic_id, created_at, updated_at)
        select t.id, """ + topic_value + """, t.avatar_id,
               case t.role
                   when 1 then case when t.odd_speaker then {missing_first} + mod(pg_temp.r(t.m, 3), {missing_count})
                                    else t.speaker end
                   when 3 then case when t.comment_avatar then t.avatar_id else t.commenter end
               end,
               case when t.role = 2 then case when t.llm_bug then t.speaker else a.llm_id end end,
               t.turn_index, """ + TURN_CONTENT + """,
               case when t.role = 3 then null
                    when t.role = 1 and t.zero_user or t.role = 2 and t.zero_assistant then z.v
                    else v.v end,
               t.kind_id, t.message_type_id, t.template_topic_id, t.turn_created_at, t.turn_created_at
        """ + TURN_SOURCE + """
        join sim_avatar as a on a.schema = t.schema and a.avatar_id = t.avatar_id
        cross join sim_zero as z
        left join sim_vec as v on v.theme_id = t.theme_id and v.k = mod(pg_temp.r(h.m, 3), {variants})
        where t.schema = {s}
        order by t.id
        """,
        s=s, topic_column=sql.Identifier(topic_column), missing_first=MISSING_SPEAKER_IDS[0],
        missing_count=MISSING_SPEAKER_IDS[1], variants=VECTOR_VARIANTS,
    )


def write_conversations(writer: Writer, schema: SchemaPlan, relationship_ids_after: int = 0) -> None:
    """grp_cons, grp_con_avatars, the turns and their relationships (ids after `relationship_ids_after`)."""
    s = schema.schema
    writer.insert(
        s, "grp_cons",
        """
        insert into {target} (id, group_id, name, description, type_id, parent_grp_con_id, template_id, created_at)
        select unit_id, group_id, name, 'About ' || name, type_id, parent_id, template_id, created_on
        from sim_unit where schema = {s} and present order by unit_id
        """,
        s=s,
    )
    writer.insert(
        s, "grp_con_avatars",
        """
        insert into {target} (grp_con_id, avatar_id, created_at)
        select unit_id, avatar_id, created_on from sim_unit where schema = {s} and present
        union
        select u.unit_id, sc.n_ai, u.created_on from sim_unit u join sim_schema sc on sc.schema = u.schema
        where u.schema = {s} and u.present and mod(u.unit_id, 4) = 0
        order by 1, 2
        """,
        s=s,
    )
    # user turns speak through the user's own avatar, assistant turns carry the LLM's id in avatar_id
    writer.insert(
        s, "grp_con_avatar_turns",
        """
        insert into {target} (id, grp_con_id, avatar_id, turn_index, content_text, content_vector, turn_kind_id,
                              message_type_id, template_topic_id, created_at)
        select c.id, c.unit_id, c.avatar_id_value, c.turn_index, c.content_text,
               case when c.role = 3 then null else ph.v end,
               c.kind_id, c.message_type_id, c.template_topic_id, c.turn_created_at
        from (
            select t.*, """ + TURN_CONTENT + """ as content_text,
                   case t.role
                       when 1 then case when t.odd_speaker then t.n_ai + t.n_speakers + 1 else t.n_ai + 1 + t.speaker_k end
                       when 2 then a.llm_id
                       else t.n_ai + 1 + t.commenter_k
                   end as avatar_id_value
            """ + TURN_SOURCE + """
            join sim_avatar as a on a.schema = t.schema and a.avatar_id = t.avatar_id
            where t.schema = {s}
        ) as c
        left join sim_placeholder as ph on ph.k = get_byte(decode(md5(c.content_text), 'hex'), 0)
        order by c.id
        """,
        s=s,
    )
    writer.insert(
        s, "grp_con_avatar_turn_relationships",
        """
        insert into {target} (id, turn_id, target_turn_id, turn_relationship_type_id, created_at)
        select {after} + row_number() over (order by src.id, src.type_id), src.id, src.target_id, src.type_id,
               src.created_at
        from (
            select c.id, a.id as target_id, 2 as type_id, c.turn_created_at as created_at
            from sim_turn as c
            join sim_turn as a on a.schema = c.schema and a.key = c.key and a.role = 2
            where c.schema = {s} and c.role = 3
            union all
            select a.id, q.id, 1, a.turn_created_at
            from sim_turn as a
            join sim_turn as q on q.schema = a.schema and q.key = a.key and q.role = 1
            where a.schema = {s} and a.role = 2 and mod(pg_temp.r(a.m, 1) / 11, 4) = 0
        ) as src
        """,
        s=s, after=relationship_ids_after,
    )


UPLOAD_ROWS = """
    select u.temp_id as id, u.filename, null::text as mime_type,
           '/tmp/uploads/' || substr(u.m, 1, 12) || '-' || u.filename as file_path, u.doc_len as file_size,
           null::text as public_url, u.bucket as bucket_name, u.uploaded_at, null::text as description,
           null::text[] as tags
    from sim_upload as u where u.table_key = {table_key} and u.two_rows
    union all
    select u.storage_id, u.filename, u.mime_type,
           coalesce(u.bucket, 'unsorted') || '/' || substr(u.m, 13, 8) || '/' || u.filename, u.doc_len,
           'https://files.example.org/storage/v1/object/public/' || coalesce(u.bucket, 'unsorted') || '/'
               || substr(u.m, 13, 8) || '/' || u.filename,
           u.bucket, u.uploaded_at + interval '2 seconds',
           case when mod(pg_temp.r(u.m, 3), 3) = 0 then 'Shared in ' || coalesce(u.bucket, 'an unknown place') end,
           array['upload', th.name]
    from sim_upload as u join sim_theme as th on th.theme_id = u.theme_id
    where u.table_key = {table_key}
"""


def write_file_upload_vectors(writer: Writer, schema: str, table_key: str) -> None:
    """The chunks of the uploads planned for `table_key` into schema.file_upload_vectors, with real-looking
    vectors of the upload's theme."""
    writer.insert(
        schema, "file_upload_vectors",
        """
        insert into {target} (id, file_upload_id, chunk_index, content_text, content_vector, created_at)
        select c.id, c.storage_id, c.chunk_index, c.content_text, v.v, u.uploaded_at + interval '1 minute'
        from sim_chunk as c
        join sim_upload as u on u.table_key = c.table_key and u.storage_id = c.storage_id
        join sim_vec as v on v.theme_id = c.theme_id and v.k = mod(c.id, {variants})
        where c.table_key = {table_key}
        order by c.id
        """,
        table_key=table_key, variants=VECTOR_VARIANTS,
    )


def write_tenant_uploads(writer: Writer, schema: SchemaPlan) -> None:
    """Topic layout: the schema's own file_uploads (temp-path row + storage row) and their chunks."""
    s = schema.schema
    key = f"{s}.tenant"
    writer.insert(
        s, "file_uploads",
        """
        insert into {target} (id, filename, file_path, mime_type, file_size, bucket_name, public_url, description,
                              tags, uploaded_at)
        select id, filename, file_path, coalesce(mime_type, 'application/octet-stream'), file_size, bucket_name,
               public_url, description, tags, uploaded_at
        from (""" + UPLOAD_ROWS + """) as x order by id
        """,
        table_key=key,
    )
    write_file_upload_vectors(writer, s, key)


def write_grp_con_uploads(writer: Writer, schema: SchemaPlan) -> None:
    """Legacy layout: grp_con_uploads (linked to the notice turn) and their placeholder-vector chunks."""
    s = schema.schema
    key = f"{s}.grp_con"
    writer.insert(
        s, "grp_con_uploads",
        """
        insert into {target} (id, grp_con_id, turn_id, filename, mime_type, file_path, public_url, bucket_name,
                              uploaded_at)
        select u.storage_id, u.unit_id, t.id, u.filename, u.mime_type,
               u.bucket || '/' || substr(u.m, 13, 8) || '/' || u.filename,
               'https://files.example.org/storage/v1/object/public/' || u.bucket || '/' || substr(u.m, 13, 8)
                   || '/' || u.filename,
               u.bucket, u.uploaded_at
        from sim_upload as u
        join sim_turn as t on t.schema = u.schema and t.key = u.key and t.role = 1
        where u.table_key = {table_key}
        order by u.storage_id
        """,
        table_key=key,
    )
    writer.insert(
        s, "grp_con_upload_vectors",
        """
        insert into {target} (id, upload_id, chunk_index, content_text, content_vector)
        select c.id, c.storage_id, c.chunk_index, c.content_text, ph.v
        from sim_chunk as c
        join sim_placeholder as ph on ph.k = get_byte(decode(md5(c.content_text), 'hex'), 0)
        where c.table_key = {table_key}
        order by c.id
        """,
        table_key=key,
    )


def write_public_uploads(writer: Writer) -> None:
    """public.file_uploads: legacy tenants' uploads (bucket = their schema), old dev ones, unattributable ones."""
    writer.insert(
        "public", "file_uploads",
        """
        insert into {target} (id, filename, mime_type, file_path, file_size, public_url, bucket_name, uploaded_at,
                              description, tags)
        select id, filename, mime_type, file_path, file_size, public_url, bucket_name, uploaded_at, description, tags
        from (""" + UPLOAD_ROWS + """) as x order by id
        """,
        table_key="public",
    )
    write_file_upload_vectors(writer, "public", "public")


def write_units(writer: Writer, relationship_ids_after: Mapping[str, int] | None = None) -> None:
    """Every planned topic or conversation with its turns and uploads, then the public uploads (relationship
    ids of a legacy schema after `relationship_ids_after`, default 0)."""
    for schema in writer.plan.schemas:
        if schema.layout == "topic":
            write_topics(writer, schema)
            write_tenant_uploads(writer, schema)
        else:
            write_conversations(writer, schema, (relationship_ids_after or {}).get(schema.schema, 0))
            write_grp_con_uploads(writer, schema)
    write_public_uploads(writer)


def plant_texts(writer: Writer) -> None:
    """The >1 MB turn (dev), and non-ASCII and SQL-looking text on one user turn per schema."""
    for schema in writer.plan.schemas:
        table = "grp_topic_avatar_turns" if schema.layout == "topic" else "grp_con_avatar_turns"
        for flag, text in (("non_ascii", content.NON_ASCII_TEXT), ("sql_like", content.SQL_LIKE_TEXT)):
            writer.run(
                """
                update {table} set content_text = {text} || ' ' || content_text
                where id in (select id from sim_turn where schema = {s} and role = 1 and """ + flag + """)
                """,
                table=sql.Identifier(schema.schema, table), text=text, s=schema.schema,
            )
    repeats = 1_100_000 // len(content.LARGE_TURN_SENTENCE) + 1
    writer.run(
        """
        update dev.grp_topic_avatar_turns
        set content_text = 'Transcript follows. ' || repeat({sentence}, {repeats})
        where id in (select id from sim_turn where schema = 'dev' and role = 2 and large)
        """,
        sentence=content.LARGE_TURN_SENTENCE, repeats=repeats,
    )
