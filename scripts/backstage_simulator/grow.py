"""grow(): add a generation of new rows to an existing simulated Backstage database, as the app would have.

The database must carry the simulator's mark. Generations are counted in `backstage_simulator.generations`,
a schema Backstage does not have and without marker tables, so discovery never takes it for a tenant and it
is not part of `public`. The whole growth runs in one transaction: it is added completely or not at all.
Plan and randomness: see `growth_plan`. Writers: the ones `simulate` uses, on plan tables that hold only new rows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cogito_migrate import database as server
from psycopg import sql

from backstage_simulator import conversations, growth_plan
from backstage_simulator.build import MARK, SimulatorError, advance_sequences
from backstage_simulator.data import HELPERS, Writer, build_vector_pools, load_vocabulary
from backstage_simulator.ddl import BACKSTAGE_SCHEMAS, TEMPLATE_SCHEMA, TENANTS
from backstage_simulator.manifest import passwords, table_rows
from backstage_simulator.people import load_names, load_passwords, plaintext_passwords, write_participants
from backstage_simulator.plan import TURNS_PER_UNIT, Plan, make_plan
from backstage_simulator.public_data import secret

BOOKKEEPING_SCHEMA = "backstage_simulator"
DEFAULT_AMOUNT = 0.05  # of the existing volume


def check_simulated(name: str) -> None:
    """Refuse any database that does not exist or was not made by the simulator."""
    with server.connect("postgres") as conn:
        row = conn.execute("select shobj_description(oid, 'pg_database') from pg_database where datname = %s",
                           (name,)).fetchone()
    if row is None:
        raise SimulatorError(f"database {name!r} does not exist: build it first with `cogito-migrate simulate`")
    if row[0] != MARK:
        raise SimulatorError(f"database {name!r} was not made by the simulator (no '{MARK}' comment): "
                             "only a simulated Backstage database can be grown; it is left alone")


def next_generation(conn) -> int:
    """The bookkeeping table (created on the first growth); generation 0 is the database `simulate` built."""
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(BOOKKEEPING_SCHEMA)))
    conn.execute(sql.SQL("comment on schema {} is {}").format(
        sql.Identifier(BOOKKEEPING_SCHEMA), sql.Literal("simulator bookkeeping, not Backstage: growth generations")))
    conn.execute(sql.SQL("create table if not exists {} (generation int primary key, seed bigint not null,"
                         " amount numeric not null, rows_added bigint not null)").format(
        sql.Identifier(BOOKKEEPING_SCHEMA, "generations")))
    return conn.execute(sql.SQL("select coalesce(max(generation), 0) + 1 from {}").format(
        sql.Identifier(BOOKKEEPING_SCHEMA, "generations"))).fetchone()[0]


def _count(base: float, amount: float, floor: int = 1) -> int:
    return max(floor, round(base * amount))


def unit_counts(turns: int, units: int, amount: float) -> tuple[int, int]:
    """(new units, continued units) for a schema: about `amount` of its turns, a tenth of them written into
    existing units (1-3 exchanges, ~4 turns each), the rest in new ones (~21 turns each). At least one of each."""
    budget = turns * amount
    return _count(budget * 0.9 / TURNS_PER_UNIT, 1), min(units, _count(budget * 0.1 / 4, 1))


def make_growth_plan(seed: int, amount: float, new_people: int, new_units: dict[str, int]) -> Plan:
    plan = make_plan(1.0, seed)
    return replace(plan, scale=amount, people=new_people, unattributable_uploads=0, sessions=0,
                   schemas=tuple(replace(s, units=new_units[s.schema]) for s in plan.schemas))


def write_people(writer: Writer, base_time: str) -> None:
    """participants; per tenant: personal avatars (legacy), participant_avatars, participant_groups."""
    write_participants(writer, "grow_people")
    for schema, shape in TENANTS.items():
        if shape.layout == "legacy":
            writer.insert(
                schema, "avatars",
                """
                insert into {target} (id, name, instruction_set, avatar_scope_id, llm_config, created_at)
                select m.avatar_id, p.name || ' (' || p.id || ')', 'Speaks for ' || p.name, 1, null::jsonb,
                       timestamptz {base} + interval '1 hour'
                from grow_member as m join public.participants as p on p.id = m.pid
                where m.schema = {s}
                order by m.avatar_id
                """,
                s=schema, base=base_time,
            )
            writer.insert(
                schema, "participant_avatars",
                """
                insert into {target} (participant_id, avatar_id, created_at)
                select pid, avatar_id, timestamptz {base} + interval '1 hour' from grow_member where schema = {s}
                order by pid
                """,
                s=schema, base=base_time,
            )
        role_column, role_value = (("participant_role_id", sql.SQL("3")) if shape.layout == "topic"
                                   else ("role", sql.Literal("member")))
        writer.insert(
            schema, "participant_groups",
            """
            insert into {target} (participant_id, group_id, {role_column}, created_at)
            select m.pid, sc.group_ids[1 + mod(pg_temp.r(pg_temp.hh('groups:' || m.schema, m.pid), 0),
                                               cardinality(sc.group_ids))], {role_value},
                   timestamptz {base} + interval '2 hours'
            from grow_member as m join sim_schema as sc on sc.schema = m.schema
            where m.schema = {s}
            order by m.pid
            """,
            s=schema, base=base_time, role_column=sql.Identifier(role_column), role_value=role_value,
        )


def write_events(writer: Writer, base_time: str, events_after: dict[str, int], logs_after: int,
                 typed_password: str, generation: int) -> None:
    """Both event logs: a login of every new membership, some activity of existing speakers, and one failed
    login of an unknown person whose typed password landed in details."""
    for schema in TENANTS:
        writer.insert(
            schema, "participant_events",
            """
            insert into {target} (id, participant_id, event_type_id, details, created_at)
            select {after} + row_number() over (order by src.pid, src.event_type_id), src.pid, src.event_type_id,
                   src.details, src.created_at
            from (
                select m.pid, 101 as event_type_id,
                       jsonb_build_object('ip', '198.51.100.' || mod(m.pid, 250), 'agent', 'web') as details,
                       timestamptz {base} + interval '3 hours' as created_at
                from grow_member as m where m.schema = {s}
                union all
                select sp.pid, 201, jsonb_build_object('topic', 1 + mod(pg_temp.r(h.m, 1), 50)),
                       timestamptz {base} + mod(pg_temp.r(h.m, 2), 86400) * interval '1 second'
                from sim_speaker as sp
                cross join lateral (select pg_temp.hh('events:' || sp.schema, sp.pid) as m) as h
                where sp.schema = {s} and mod(pg_temp.r(h.m, 0), 10) = 0
            ) as src
            """,
            s=schema, base=base_time, after=events_after[schema],
        )
    writer.insert(
        "public", "participant_event_logs",
        """
        insert into {target} (id, schema_id, participant_id, event_type_id, description, details, ip_address,
                              user_agent, created_at)
        select {after} + row_number() over (order by src.pid nulls last, src.schema nulls first, src.event_type_id),
               s.id, src.pid, src.event_type_id, src.description, src.details,
               '203.0.113.' || mod(coalesce(src.pid, 0), 250), 'Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0',
               src.created_at
        from (
            select m.pid, m.schema, 101 as event_type_id, 'Activity' as description,
                   jsonb_build_object('email', p.email, 'remember_me', true) as details,
                   timestamptz {base} + interval '4 hours' as created_at
            from grow_member as m join public.participants as p on p.id = m.pid
            union all
            select sp.pid, sp.schema, 201, 'Activity',
                   jsonb_build_object('path', '/topics/' || mod(sp.pid, 97), 'ok', true),
                   timestamptz {base} + mod(pg_temp.r(h.m, 1), 86400) * interval '1 second'
            from sim_speaker as sp
            cross join lateral (select pg_temp.hh('log:' || sp.schema, sp.pid) as m) as h
            where mod(pg_temp.r(h.m, 0), 10) = 0
            union all
            select null, null, 103, 'Login failed: no such user',
                   jsonb_build_object('email', {stranger}, 'password', {typed}), timestamptz {base} + interval '5 hours'
        ) as src
        left join public.schemas as s on s.name = src.schema
        """,
        after=logs_after, base=base_time, typed=typed_password,
        stranger=f"stranger-g{generation}@unknown.example",
    )


def build_growth_manifest(writer: Writer, database: str, generation: int, secrets: list[str]) -> dict[str, Any]:
    conn = writer.conn
    schemas: dict[str, Any] = {}
    for schema in BACKSTAGE_SCHEMAS:
        layout = "global" if schema == "public" else "template" if schema == TEMPLATE_SCHEMA else TENANTS[schema].layout
        schemas[schema] = {"layout": layout, "tables": table_rows(writer, schema)}
    memberships: dict[str, list[int]] = {schema: [] for schema in TENANTS}
    for schema, pid in conn.execute("select schema, pid from grow_member order by schema, pid").fetchall():
        memberships[schema].append(pid)
    joined = [{"participant_id": pid, "schema": schema} for pid, schema in conn.execute(
        "select pid, schema from grow_member where joined order by pid, schema").fetchall()]
    units: dict[str, Any] = {}
    for schema in TENANTS:
        units[schema] = {
            "new": [r[0] for r in conn.execute("select unit_id from sim_unit where schema = %s order by unit_id",
                                               (schema,))],
            "continued": [r[0] for r in conn.execute(
                "select unit_id from grow_continue where schema = %s order by unit_id", (schema,))],
            "turns_into_existing": [r[0] for r in conn.execute(
                "select id from sim_turn where schema = %s and continued order by id", (schema,))],
        }
    return {
        "database": database,
        "seed": writer.plan.seed,
        "amount": writer.plan.scale,
        "generation": generation,
        "schemas": schemas,
        "rows_added": sum(writer.rows.values()),
        "passwords": passwords(writer, "grow_people"),
        "secrets": sorted(set(secrets)),
        "memberships": memberships,
        "joined_existing_people": joined,
        "units": units,
    }


def grow(database: str, seed: int = 42, amount: float = DEFAULT_AMOUNT) -> dict[str, Any]:
    """Add about `amount` (a fraction) of the existing volume as new rows; return what was added.

    Manifest keys: `database`, `seed`, `amount`, `generation` (1 for the first growth), `schemas`
    ({schema: {"layout", "tables": {table: rows added}}} for public, every tenant and template),
    `rows_added`, `passwords` (the new people, as in simulate's manifest), `secrets` (new secret values:
    non-empty plaintext passwords, a password typed into a failed login), `memberships` ({tenant: [participant
    ids with a new footprint there]}), `joined_existing_people` ([{participant_id, schema}]: existing people
    with their first footprint in that tenant), `units` ({tenant: {"new": [topic or conversation ids],
    "continued": [existing ids that got turns], "turns_into_existing": [turn ids]}}).
    """
    if not amount > 0:
        raise ValueError(f"amount must be positive, got {amount}")
    check_simulated(database)
    with server.connect(database) as conn, conn.transaction():
        generation = next_generation(conn)
        topic_after = growth_plan.topic_ids_after(conn)
        volumes = {s: growth_plan.read_volume(conn, s, topic_after) for s in TENANTS}
        people = conn.execute("select count(*) from public.participants").fetchone()[0]
        counts = {s: unit_counts(v.turns, v.units, amount) for s, v in volumes.items()}
        new_units = {s: counts[s][0] for s in TENANTS}
        n_continue = {s: counts[s][1] for s in TENANTS}
        plan = make_growth_plan(seed, amount, _count(people, amount, 2), new_units)
        writer = Writer(conn, plan)
        # every hash depends on the seed and the generation: each growth adds other rows
        conn.execute(HELPERS.replace("{seed}", f"{int(seed)}:grow{generation}"))
        load_vocabulary(writer)
        build_vector_pools(writer)
        load_passwords(writer)
        load_names(writer)
        base_time = growth_plan.growth_base_time(conn)
        ids_after = {"public": (growth_plan.last_id(conn, "public", "file_uploads"),
                                growth_plan.last_id(conn, "public", "file_upload_vectors"))}
        for schema, shape in TENANTS.items():
            if shape.layout == "topic":
                ids_after[f"{schema}.tenant"] = (growth_plan.last_id(conn, schema, "file_uploads"),
                                                 growth_plan.last_id(conn, schema, "file_upload_vectors"))
            else:
                ids_after[f"{schema}.grp_con"] = (growth_plan.last_id(conn, schema, "grp_con_uploads"),
                                                  growth_plan.last_id(conn, schema, "grp_con_upload_vectors"))
        events_after = {s: growth_plan.last_id(conn, s, "participant_events") for s in TENANTS}
        logs_after = growth_plan.last_id(conn, "public", "participant_event_logs")
        people_after = growth_plan.last_id(conn, "public", "participants")

        growth_plan.plan_growth_schemas(writer, volumes, new_units, n_continue)
        growth_plan.plan_people(writer, people_after, base_time, joiners=_count(people, amount / 5))
        growth_plan.plan_speakers(writer)
        growth_plan.load_avatars(writer)
        growth_plan.plan_new_units(writer, base_time)
        growth_plan.plan_continued_units(writer, base_time)
        growth_plan.plan_growth_exchanges(writer)
        growth_plan.plan_growth_uploads(writer, ids_after)

        typed = secret(seed, f"grow:{generation}:typed-password", "typed-pw-", 12)
        write_people(writer, base_time)
        conversations.write_units(writer, {s: v.relationship_after for s, v in volumes.items()})
        write_events(writer, base_time, events_after, logs_after, typed, generation)
        advance_sequences(conn, BACKSTAGE_SCHEMAS)
        secrets = [typed, *plaintext_passwords(conn, "grow_people")]
        manifest = build_growth_manifest(writer, database, generation, secrets)
        conn.execute(sql.SQL("insert into {} values (%s, %s, %s, %s)").format(
            sql.Identifier(BOOKKEEPING_SCHEMA, "generations")), (generation, seed, amount, manifest["rows_added"]))
    with server.connect(database) as conn:
        conn.execute("analyze")
    return manifest
