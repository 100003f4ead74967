"""Who exists (public.participants) and where each person leaves a footprint (the membership plan).

Participant ids start at 101: ids 1-100 belong to deleted test accounts, so a turn that names one of them
has a missing speaker, and an avatar id that lands in participant_id never names a real person.
The first people are planted (fixed roles: case-duplicate emails, no client, one footprint kind only);
the rest are drawn from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from backstage_simulator import content
from backstage_simulator.credentials import password_pool
from backstage_simulator.data import BASE_TIME, Writer
from backstage_simulator.ddl import TENANTS
from backstage_simulator.plan import MULTI_CLIENT_PERCENT, NO_CLIENT_PERCENT, SINGLE_CLIENT_CUMULATIVE

FIRST_PARTICIPANT_ID = 101
ALL_TENANTS = tuple(TENANTS)


@dataclass(frozen=True)
class Planted:
    n: int
    role: str
    schemas: tuple[str, ...]
    shape: str
    name: str
    email: str
    footprint: str = "regular"  # regular: every kind of footprint; else only that one kind

    @property
    def participant_id(self) -> int:
        return FIRST_PARTICIPANT_ID - 1 + self.n


PLANTED: tuple[Planted, ...] = (
    Planted(1, "all_clients", ALL_TENANTS, "bcrypt_2b", "Grace Okafor", "grace.okafor@example.org"),
    Planted(2, "case_duplicate_older", ("dev",), "bcrypt_2a", "Maria Lopez", "Maria.Lopez@example.org"),
    Planted(3, "case_duplicate_newer", ("dev",), "plaintext", "María López", "maria.lopez@example.org"),
    Planted(4, "case_duplicate_older", ("bsa",), "empty", "John Smith", "JOHN.SMITH@scouts.example.org"),
    Planted(5, "case_duplicate_newer", ("bsa",), "plaintext_hashedpass", "John Smith",
            "john.smith@scouts.example.org"),
    Planted(6, "case_variant_other_client", ("conflict_club",), "double_bcrypt", "Ana Ruiz", "Ana.Ruiz@example.org"),
    Planted(7, "case_variant_other_client", ("timethatremains",), "bcrypt_2b", "Ana Ruiz", "ana.ruiz@example.org"),
    Planted(8, "no_client", (), "bcrypt_2b", "Lurking Visitor", "visitor@example.org"),
    Planted(9, "no_client", (), "plaintext", "Test Account", "test@test.com"),
    Planted(10, "footprint_only", ("bsa",), "bcrypt_2b", "Pat Groups", "pat.groups@example.org", "participant_groups"),
    Planted(11, "footprint_only", ("conflict_club",), "bcrypt_2b", "Avery Avatars", "avery@example.org",
            "participant_avatars"),
    Planted(12, "footprint_only", ("dev",), "bcrypt_2a", "Lee Llms", "lee.llms@example.org", "participant_llms"),
    Planted(13, "footprint_only", ("timethatremains",), "bcrypt_2b", "Pia Prefs", "pia@example.org",
            "participant_preferences"),
    Planted(14, "footprint_only", ("first_congregational",), "bcrypt_2b", "Eve Events", "eve@example.org",
            "participant_events"),
    Planted(15, "footprint_only", ("dev",), "bcrypt_2b", "Tom Turn", "tom.turn@example.org", "turn"),
    Planted(16, "footprint_only", ("first_congregational",), "bcrypt_2b", "Tia Topics", "tia@example.org",
            "topic_created_by"),
    Planted(17, "footprint_only", ("bsa",), "bcrypt_2b", "Tad Templates", "tad@example.org", "template_created_by"),
    Planted(18, "footprint_only", ("timethatremains",), "bcrypt_2b", "Lou Logs", "lou.logs@example.org", "event_log"),
)


# the spread of password shapes over generated people, from the person's draw `m`
PASSWORD_SHAPE = """
    case
        when mod(pg_temp.r(m, 3), 100) < 75 then 'bcrypt_2b'
        when mod(pg_temp.r(m, 3), 100) < 85 then 'bcrypt_2a'
        when mod(pg_temp.r(m, 3), 100) < 91 then 'plaintext'
        when mod(pg_temp.r(m, 3), 100) < 94 then 'plaintext_hashedpass'
        when mod(pg_temp.r(m, 3), 100) < 97 then 'empty'
        else 'double_bcrypt'
    end
"""

# People numbered n in {first}..{last} with ids {pid_after} + n: name, email, password shape and the position
# k in that shape's pool, all drawn from ('person', n); `m` is the draw, for the caller's own columns.
# The email's number is the id minus 100 (slugs hold no digits): unique for every id.
GENERATED_PEOPLE = """
    select n, {pid_after} + n as pid, nm.first_names[i] || ' ' || nm.last_names[j] as name,
           nm.first_slugs[i] || '.' || nm.last_slugs[j] || ({pid_after} + n - 100) || '@'
               || pg_temp.pick(nm.domains, pg_temp.r(m, 2)) as email,
           shape, mod(pg_temp.r(m, 3) / 100, (select count(*)::int from sim_password as pw where pw.shape = pick.shape))
               as k,
           m
    from generate_series({first}, {last}) as n
    cross join lateral (select pg_temp.hh('person', n) as m) as h
    cross join sim_names as nm
    cross join lateral (
        select 1 + mod(pg_temp.r(m, 0), cardinality(nm.first_names)) as i,
               1 + mod(pg_temp.r(m, 1), cardinality(nm.last_names)) as j,
               """ + PASSWORD_SHAPE + """ as shape
    ) as pick
"""


def load_passwords(writer: Writer) -> None:
    """sim_password: the pool of (shape, k) -> plaintext and stored value people draw from."""
    writer.conn.execute("create temp table sim_password (shape text, k int, plaintext text, stored text,"
                        " primary key (shape, k))")
    with writer.conn.cursor() as cursor:
        cursor.executemany("insert into sim_password values (%s, %s, %s, %s)",
                           [(e.shape, e.k, e.plaintext, e.stored) for e in password_pool(writer.plan.seed)])


def load_names(writer: Writer) -> None:
    """sim_names: the name and email vocabulary of content.py as arrays."""
    writer.conn.execute(
        "create temp table sim_names as select %s::text[] first_names, %s::text[] first_slugs,"
        " %s::text[] last_names, %s::text[] last_slugs, %s::text[] domains",
        ([d for d, _ in content.FIRST_NAMES], [s for _, s in content.FIRST_NAMES],
         [d for d, _ in content.LAST_NAMES], [s for _, s in content.LAST_NAMES], list(content.EMAIL_DOMAINS)),
    )


def plaintext_passwords(conn: psycopg.Connection, people_table: str) -> list[str]:
    """The non-empty plaintext passwords the people of `people_table` (sim_people, grow_people) carry: secrets
    to find in the migrated data (the empty one is not a findable value)."""
    return [row[0] for row in conn.execute(sql.SQL(
        "select distinct pw.plaintext from {} p join sim_password pw on pw.shape = p.shape and pw.k = p.k"
        " where p.shape like 'plaintext%' and pw.plaintext <> ''").format(sql.Identifier(people_table))).fetchall()]


def write_participants(writer: Writer, people_table: str) -> None:
    """public.participants: the people of `people_table` (sim_people, grow_people) with their stored password."""
    writer.insert(
        "public", "participants",
        """
        insert into {target} (id, name, email, password, created_at)
        select p.pid, p.name, p.email, pw.stored, p.created_at
        from {people} as p
        join sim_password as pw on pw.shape = p.shape and pw.k = p.k
        order by p.pid
        """,
        people=sql.Identifier(people_table),
    )


def load_people(writer: Writer) -> None:
    """sim_password, sim_people, sim_member, sim_speaker; then public.participants."""
    conn = writer.conn
    load_passwords(writer)
    load_names(writer)
    conn.execute("create temp table sim_people (n int primary key, pid bigint unique, name text, email text,"
                 " shape text, k int, created_at timestamptz, role text)")
    conn.execute("create temp table sim_member (pid bigint, schema text, kind text, primary key (pid, schema))")
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into sim_people values (%s, %s, %s, %s, %s, 0, %s::timestamptz + %s * interval '5 hours', %s)",
            [(p.n, p.participant_id, p.name, p.email, p.shape, BASE_TIME, p.n - 400, p.role) for p in PLANTED],
        )
        cursor.executemany(
            "insert into sim_member values (%s, %s, %s)",
            [(p.participant_id, s, p.footprint) for p in PLANTED for s in p.schemas],
        )
    first_generated = len(PLANTED) + 1
    writer.run(
        """
        insert into sim_people
        select n, pid, name, email, shape, k,
               timestamptz {base} - interval '120 days' + n * interval '3 hours'
                   + mod(pg_temp.r(m, 2), 10800) * interval '1 second',
               'generated'
        from (""" + GENERATED_PEOPLE + """) as g
        """,
        pid_after=FIRST_PARTICIPANT_ID - 1, base=BASE_TIME, first=first_generated,
        last=first_generated + writer.plan.people - 1,
    )
    cumulative = list(SINGLE_CLIENT_CUMULATIVE)
    writer.run(
        """
        insert into sim_member
        select p.pid, ({tenants}::text[])[1 + mod(x.first + x.offset, 5)], 'regular'
        from sim_people as p
        cross join lateral (select pg_temp.hh('member', p.n) as m) as h
        cross join lateral (
            select mod(pg_temp.r(m, 0), 100) as kind,
                   (select count(*)::int from unnest({cumulative}::int[]) as c where c <= mod(pg_temp.r(m, 1), 100))
                       as first,
                   1 + mod(pg_temp.r(m, 2), 4) as o1,
                   mod(pg_temp.r(m, 3), 3) as third,
                   mod(pg_temp.r(m, 3) / 3, 3) as o2
        ) as c
        cross join lateral (
            select c.first, 0 as offset where c.kind >= {none}
            union all select c.first, c.o1 where c.kind >= {none} and c.kind < {none} + {multi}
            union all select c.first, 1 + mod(c.o1 + c.o2, 4)
                where c.kind >= {none} and c.kind < {none} + {multi} and c.third = 0
        ) as x
        where p.role = 'generated'
        """,
        tenants=list(ALL_TENANTS), cumulative=cumulative, none=NO_CLIENT_PERCENT, multi=MULTI_CLIENT_PERCENT,
    )
    conn.execute(
        "create temp table sim_speaker as select schema, (row_number() over (partition by schema order by pid) - 1)::int k,"
        " pid from sim_member where kind = 'regular'"
    )
    conn.execute("create unique index on sim_speaker (schema, k)")
    conn.execute("analyze sim_people, sim_member, sim_speaker, sim_password")
    write_participants(writer, "sim_people")
