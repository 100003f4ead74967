"""Server-side generation: the session helpers every step uses, and the row counter behind the manifest.

Randomness is a pure function of (seed, tag, number): md5 of that string, sliced into 28-bit integers.
No setseed()/random(), so the data never depends on plan, parallelism or insertion order, and every
id is given explicitly (sequences are set afterwards). The helpers are temporary functions (pg_temp) and
the plan lives in temporary tables (sim_*): the Backstage database keeps no trace of the simulator
except its mark.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

import psycopg
from psycopg import sql

from backstage_simulator import content
from backstage_simulator.plan import Plan

log = logging.getLogger(__name__)
VECTOR_DIMENSIONS = 1536
VECTOR_VARIANTS = 16  # real-looking embeddings per theme
PLACEHOLDERS = 256  # legacy placeholder vectors, chosen by a byte of the content's md5
BASE_TIME = "2024-09-01 08:00:00+00"
LATE_MAY = "2025-05-20 00:00:00+00"  # from here on, every upload wrote two file_uploads rows


class Writer:
    """One connection that runs the generation and counts the rows each INSERT wrote per table."""

    def __init__(self, conn: psycopg.Connection, plan: Plan) -> None:
        self.conn = conn
        self.plan = plan
        self.rows: Counter[tuple[str, str]] = Counter()

    def run(self, template: str, **parts: Any) -> psycopg.Cursor:
        """Execute one statement; `parts` fill `{name}` placeholders (str -> literal, sql objects as they are)."""
        composed = sql.SQL(template).format(**{k: _part(v) for k, v in parts.items()})
        started = time.monotonic()
        cursor = self.conn.execute(composed)
        log.debug("%.2fs %s", time.monotonic() - started, " ".join(template.split())[:90])
        return cursor

    def insert(self, schema: str, table: str, template: str, **parts: Any) -> int:
        """An INSERT into schema.table (`{target}` in the template); its row count goes to the manifest."""
        cursor = self.run(template, target=sql.Identifier(schema, table), **parts)
        self.rows[(schema, table)] += cursor.rowcount
        return cursor.rowcount

    def insert_rows(self, schema: str, table: str, columns: list[str], rows: list[tuple]) -> int:
        """A handful of rows built in Python (reference data): one multi-row INSERT."""
        if not rows:
            return 0
        statement = sql.SQL("insert into {} ({}) values ({})").format(
            sql.Identifier(schema, table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        )
        with self.conn.cursor() as cursor:
            cursor.executemany(statement, rows)
        self.rows[(schema, table)] += len(rows)
        return len(rows)


def _part(value: Any) -> sql.Composable:
    if isinstance(value, sql.Composable):
        return value
    return sql.Literal(value)


HELPERS = """
create function pg_temp.hh(tag text, n bigint) returns text
    language sql immutable as $$ select md5('{seed}:' || tag || ':' || n) $$;
-- slice k (0..3) of an md5 as a non-negative 28-bit integer
create function pg_temp.r(m text, k int) returns int
    language sql immutable as $$ select ('x' || substr(m, 1 + 7 * k, 7))::bit(28)::int $$;
create function pg_temp.pick(a text[], i int) returns text
    language sql immutable as $$ select a[1 + mod(i, cardinality(a))] $$;
create function pg_temp.fill(t text, a text, b text, s text, f text, n text) returns text
    language sql immutable as $$
    select replace(replace(replace(replace(replace(t, '{a}', a), '{b}', b), '{s}', s), '{f}', coalesce(f, '')),
                   '{n}', coalesce(n, ''))
$$;
"""


def install_helpers(writer: Writer) -> None:
    # plain string (not sql.SQL): the function bodies contain braces; the seed is an int
    writer.conn.execute(HELPERS.replace("{seed}", str(int(writer.plan.seed))))


def load_vocabulary(writer: Writer) -> None:
    """content.py as temporary tables, so text is assembled in the database."""
    conn = writer.conn
    conn.execute(
        "create temp table sim_theme (theme_id int primary key, name text, roots text[], words text[],"
        " avatar text, n_subs int)"
    )
    conn.execute(
        "create temp table sim_sub (theme_id int, sub_n int, label text, title text, words text[],"
        " primary key (theme_id, sub_n))"
    )
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into sim_theme values (%s, %s, %s, %s, %s, %s)",
            [(i + 1, t.name, list(t.roots), list(t.words), t.avatar, len(t.subtopics))
             for i, t in enumerate(content.THEMES)],
        )
        cursor.executemany(
            "insert into sim_sub values (%s, %s, %s, %s, %s)",
            [(i + 1, j, s.label, s.title, list(s.words))
             for i, t in enumerate(content.THEMES) for j, s in enumerate(t.subtopics)],
        )
    conn.execute(
        "create temp table sim_tpl as select %s::text[] questions, %s::text[] openers, %s::text[] sentences,"
        " %s::text[] comments, %s::text[] upload_answers, %s::text[] document, %s::text[] stems,"
        " %s::text[] extensions, %s::text[] mimes",
        (list(content.QUESTIONS), list(content.ANSWER_OPENERS), list(content.ANSWER_SENTENCES),
         list(content.COMMENTS), list(content.UPLOAD_ANSWERS), list(content.DOCUMENT_SENTENCES),
         list(content.FILE_STEMS), [e for e, _ in content.FILE_TYPES], [m for _, m in content.FILE_TYPES]),
    )


def build_vector_pools(writer: Writer) -> None:
    """Real-looking embeddings per theme (a theme direction plus noise) and the legacy hash placeholders."""
    # a direction per theme plus one of VECTOR_VARIANTS noise vectors shared by all themes
    writer.run(
        """
        create temp table sim_vec as
        with theme as (
            select th.theme_id, i, pg_temp.r(pg_temp.hh('vec-theme:' || th.theme_id, i), 0) / 268435456.0 - 0.5 as x
            from sim_theme as th cross join generate_series(1, {dims}) as i
        ), noise as (
            select k, i, pg_temp.r(pg_temp.hh('vec-noise:' || k, i), 0) / 268435456.0 - 0.5 as x
            from generate_series(0, {variants} - 1) as k cross join generate_series(1, {dims}) as i
        )
        select theme.theme_id, noise.k, array_agg((0.7 * theme.x + 0.3 * noise.x)::float8 order by i)::vector({dims}) as v
        from theme join noise using (i)
        group by theme.theme_id, noise.k
        """,
        dims=sql.Literal(VECTOR_DIMENSIONS), variants=sql.Literal(VECTOR_VARIANTS),
    )
    # legacy placeholders: the 16 bytes of one md5, repeated, scaled to [-1, 1]
    writer.run(
        """
        create temp table sim_placeholder as
        select k, (select array_agg(((get_byte(d, mod(i, 16)) - 127.5) / 127.5)::float8 order by i)
                   from generate_series(0, {dims} - 1) as i)::vector({dims}) as v
        from generate_series(0, {n} - 1) as k
        cross join lateral (select decode(pg_temp.hh('placeholder', k), 'hex') as d) as h
        """,
        dims=sql.Literal(VECTOR_DIMENSIONS), n=sql.Literal(PLACEHOLDERS),
    )
    writer.run(
        "create temp table sim_zero as select array_fill(0::float8, array[{dims}])::vector({dims}) as v",
        dims=sql.Literal(VECTOR_DIMENSIONS),
    )
    writer.conn.execute("create unique index on sim_vec (theme_id, k)")
    writer.conn.execute("create unique index on sim_placeholder (k)")
    writer.conn.execute("analyze sim_vec, sim_placeholder")
