"""What Backstage goes through between two migration runs, and what every run must leave behind.

Shared by test_changes_between_runs.py (one plain test per named change) and test_changes_between_runs_property.py
(random sequences of the same changes, interleaved with runs and with Cogito's own writes). The semantics these
tests hold the migration to are written in models/marts/migration/_migration__docs.md ("Changes between runs").

The expected target comes from the Backstage tables and a ledger of what earlier runs migrated, never from the
models: `Oracle.observe` records every turn the migration has answered for (its block and its order key while it
was alive in Backstage), `Oracle.check` compares the target with that, after every run.
"""

from __future__ import annotations

import io
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from cogito_migrate import database, ids, runner
from target_sql import as_application, cogito_uuid4, relation

TOPIC_TURNS = "grp_topic_avatar_turns"
LEGACY_TURNS = "grp_con_avatar_turns"
COGITO_CLIENT = 101  # the migrated client the application writes into during the tests
TARGET_SCHEMAS = ("client_mgmt", "conversation", "files", "events")


def turn_uuid(client_id: int, schema: str, table: str, turn_id: int) -> uuid.UUID:
    return ids.cogito_uuid(client_id, "turn", schema, table, turn_id)


# -- the tenants -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tenant:
    schema: str
    client_id: int
    layout: str  # topic | legacy
    topic_reference: str  # the turn column naming the container: topic_id, topicpathid or grp_con_id

    @property
    def turn_table(self) -> str:
        return TOPIC_TURNS if self.layout == "topic" else LEGACY_TURNS

    @property
    def container_table(self) -> str:
        return "topic_paths" if self.layout == "topic" else "grp_cons"

    @property
    def unfiled_block(self) -> uuid.UUID:
        return ids.cogito_uuid(self.client_id, "block", self.schema, "unfiled_block", "unfiled")

    def container_block(self, container_id: int) -> uuid.UUID:
        return ids.cogito_uuid(self.client_id, "block", self.schema, self.container_table, container_id)


def migrated_tenants(conn: psycopg.Connection) -> list[Tenant]:
    """The migrated tenants from the client map, with their layout and how their turns name a container."""
    rows = conn.execute(
        """
        select c.schema, c.client_id, col.column_name
        from migration.backstage_clients c
        join information_schema.columns col
          on col.table_schema = c.schema
         and col.table_name in ('grp_topic_avatar_turns', 'grp_con_avatar_turns')
         and col.column_name in ('topic_id', 'topicpathid', 'grp_con_id')
        where c.migrate
        order by c.client_id
        """
    ).fetchall()
    return [Tenant(schema, client_id, "legacy" if ref == "grp_con_id" else "topic", ref) for schema, client_id, ref in rows]


# -- the ledger of turns ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderKey:
    """A turn's place in its block: lost topic (unfiled block only), turn_index, created_at, Backstage id."""

    lost_container: str | None
    turn_index: Decimal
    created_at: datetime | None
    turn_id: int

    def sort_key(self) -> tuple:
        # NULL lost container first, NULL created_at last (PostgreSQL's defaults for ascending order)
        return (
            self.lost_container is not None, self.lost_container or "", self.turn_index,
            self.created_at is None, self.created_at or datetime.min, self.turn_id,
        )


@dataclass
class LedgerTurn:
    client_id: int
    source_block: uuid.UUID  # the block Backstage files it in (the last one, once deleted)
    key: OrderKey
    content: str
    alive: bool = True


def source_turns(conn: psycopg.Connection, tenant: Tenant) -> dict[uuid.UUID, LedgerTurn]:
    """Every current Backstage turn of a tenant, with the block the contract files it in and its order key."""
    containers = dict(
        conn.execute(
            sql.SQL("select id, {} from {}").format(
                sql.SQL("index" if tenant.layout == "topic" else "id::text"),
                relation(tenant.schema, tenant.container_table),
            )
        ).fetchall()
    )
    by_index = {index: container_id for container_id, index in containers.items()}
    rows = conn.execute(
        sql.SQL("select id, {}, turn_index, created_at, content_text from {}").format(
            sql.Identifier(tenant.topic_reference), relation(tenant.schema, tenant.turn_table)
        )
    ).fetchall()
    turns = {}
    for turn_id, reference, turn_index, created_at, content in rows:
        if tenant.topic_reference == "topicpathid":
            container = by_index.get(reference)
            lost = None if reference is None else f"index:{reference}"
        else:
            container = reference if reference in containers else None
            lost = None if reference is None else str(reference)
        block = tenant.unfiled_block if container is None else tenant.container_block(container)
        key = OrderKey(lost if container is None else None, turn_index, created_at, turn_id)
        turns[turn_uuid(tenant.client_id, tenant.schema, tenant.turn_table, turn_id)] = LedgerTurn(
            tenant.client_id, block, key, content
        )
    return turns


@dataclass
class Placement:
    block_id: uuid.UUID
    turn_id: uuid.UUID
    client_id: int
    sequence_order: int


def block_turn_rows(conn: psycopg.Connection) -> list[Placement]:
    return [Placement(*row) for row in conn.execute(
        "select block_id, turn_id, client_id, sequence_order from conversation.block_turns"
    ).fetchall()]


def is_migration_uuid(value: uuid.UUID) -> bool:
    return value.version == 3


# -- the oracle ---------------------------------------------------------------------------------------------------
@dataclass
class Oracle:
    """What the target must hold after each run, from the source and what earlier runs migrated."""

    ledger: dict[uuid.UUID, LedgerTurn] = field(default_factory=dict)
    # block_turns after the previous run (Cogito's blocks keep their order from then on)
    previous: list[Placement] = field(default_factory=list)
    # rows the application wrote: (table, key column, key) -> the row as text
    cogito_rows: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # other Backstage rows the tests deleted after they were migrated: (cogito table, uuid)
    deleted_rows: set[tuple[str, uuid.UUID]] = field(default_factory=set)

    def shared_blocks(self, placements: list[Placement]) -> set[uuid.UUID]:
        """Migration blocks that hold a turn Cogito wrote."""
        return {
            p.block_id for p in placements if is_migration_uuid(p.block_id) and not is_migration_uuid(p.turn_id)
        }

    def expected(self, current: dict[uuid.UUID, LedgerTurn]) -> dict[uuid.UUID, list[uuid.UUID]]:
        """block -> its migrated turns in order, for the blocks only the migration wrote into; and, for the blocks
        Cogito wrote into, the turns arriving there (appended after the block's end, in order)."""
        shared = self.shared_blocks(self.previous)
        placed = {p.turn_id: p.block_id for p in self.previous if is_migration_uuid(p.block_id)}
        members: dict[uuid.UUID, list[tuple[OrderKey, uuid.UUID]]] = defaultdict(list)
        for turn_id, turn in self.ledger.items():
            if turn_id in current:
                if placed.get(turn_id) in shared:
                    continue  # in a block Cogito wrote into, a placed turn never moves
                members[current[turn_id].source_block].append((current[turn_id].key, turn_id))
            elif placed.get(turn_id) not in shared:
                members[placed.get(turn_id, turn.source_block)].append((turn.key, turn_id))
        return {
            block: [turn_id for _, turn_id in sorted(rows, key=lambda row: row[0].sort_key())]
            for block, rows in members.items()
        }

    def observe(self, conn: psycopg.Connection) -> dict[uuid.UUID, LedgerTurn]:
        """The current Backstage turns (for the check after this run)."""
        current: dict[uuid.UUID, LedgerTurn] = {}
        for tenant in migrated_tenants(conn):
            current.update(source_turns(conn, tenant))
        return current

    def check(self, conn: psycopg.Connection, current: dict[uuid.UUID, LedgerTurn]) -> None:
        """Every invariant of a run, then the ledger moves on to this run's state."""
        placements = block_turn_rows(conn)
        problems: list[str] = []

        # every block: 1..n, unique, without gaps (Cogito's rows included)
        by_block: dict[uuid.UUID, list[Placement]] = defaultdict(list)
        for p in placements:
            by_block[p.block_id].append(p)
        for block, rows in by_block.items():
            orders = sorted(p.sequence_order for p in rows)
            if orders != list(range(1, len(rows) + 1)):
                problems.append(f"block {block}: sequence_order {orders} is not 1..{len(rows)}")

        # every turn the migration answers for (current and deleted): exactly once in the migration's blocks
        migrated = [p for p in placements if is_migration_uuid(p.turn_id) and is_migration_uuid(p.block_id)]
        seen: dict[uuid.UUID, int] = defaultdict(int)
        for p in migrated:
            seen[p.turn_id] += 1
        answered = set(self.ledger) | set(current)
        problems += [f"turn {t} sits in {n} blocks" for t, n in seen.items() if n != 1]
        problems += [f"turn {t} is in no block" for t in answered if t not in seen]
        problems += [f"turn {t} is in a block but was never a Backstage turn" for t in seen if t not in answered]

        # content byte for byte, and deleted turns kept
        contents = dict(conn.execute(
            "select turn_id, content from conversation.turns where substr(turn_id::text, 15, 1) = '3'"
        ).fetchall())
        for turn_id, turn in current.items():
            if contents.get(turn_id) != turn.content:
                problems.append(f"turn {turn_id}: content differs from Backstage")
        for turn_id in self.ledger:
            if turn_id not in contents:
                problems.append(f"turn {turn_id} was migrated and is gone from conversation.turns")

        # blocks and order
        for turn_id, turn in current.items():
            self.ledger.setdefault(turn_id, turn)
        actual_block = {p.turn_id: p.block_id for p in migrated}
        shared = self.shared_blocks(self.previous)
        previous_order = {(p.block_id, p.turn_id): p.sequence_order for p in self.previous}
        expected = self.expected(current)
        for block, expected_turns in expected.items():
            rows = sorted(by_block.get(block, []), key=lambda p: p.sequence_order)
            if block in shared:
                # Cogito's order stands: rows placed before keep their position, arrivals follow in order
                moved = [p.turn_id for p in rows
                         if previous_order.get((block, p.turn_id), p.sequence_order) != p.sequence_order]
                arrived = [p.turn_id for p in rows
                           if (block, p.turn_id) not in previous_order and is_migration_uuid(p.turn_id)]
                if moved:
                    problems.append(f"block {block} (Cogito wrote into it): placed turns moved: {moved}")
                if arrived != expected_turns:
                    problems.append(f"block {block} (Cogito wrote into it): arrivals {arrived} != {expected_turns}")
            else:
                actual = [p.turn_id for p in rows if is_migration_uuid(p.turn_id)]
                if actual != expected_turns:
                    elsewhere = [t for t in expected_turns if actual_block.get(t) != block]
                    problems.append(
                        f"block {block}: order {actual} != expected {expected_turns}"
                        + (f" (in another block: {elsewhere})" if elsewhere else "")
                    )

        # the application's query finds every current topic under its current path, with its turns in order
        problems += self.check_application_query(conn, expected, shared)

        # Cogito's rows untouched, other deleted rows kept
        for (table, column, key), row in self.cogito_rows.items():
            now = conn.execute(
                sql.SQL("select t::text from {} as t where {} = %s").format(
                    relation(table), sql.Identifier(column)
                ),
                (key,),
            ).fetchone()
            if now is None or now[0] != row:
                problems.append(f"{table} {key} (written by Cogito) changed: {row} -> {now}")
        for table, cogito_id in self.deleted_rows:
            column = "block_id" if table == "conversation.blocks" else "id"
            found = conn.execute(
                sql.SQL("select 1 from {} where {} = %s").format(relation(table), sql.Identifier(column)),
                (cogito_id,),
            ).fetchone()
            if found is None:
                problems.append(f"{table} {cogito_id}: deleted in Backstage and gone from the target")

        problems += self.check_reported_deletions(conn, current)

        assert not problems, f"{len(problems)} problem(s) after the run:\n" + "\n".join(problems[:25])
        for turn_id, turn in self.ledger.items():
            if turn_id in current:
                self.ledger[turn_id] = current[turn_id]
            else:
                turn.alive = False
                turn.source_block = actual_block[turn_id]
        self.previous = placements

    def check_application_query(
        self, conn: psycopg.Connection, expected: dict[uuid.UUID, list[uuid.UUID]], shared: set[uuid.UUID]
    ) -> list[str]:
        """The application's own query (target spec) by the topic's current path returns that block's turns."""
        problems = []
        for tenant in migrated_tenants(conn):
            if tenant.layout != "topic":
                continue
            topics = conn.execute(
                sql.SQL("select id, path::text from {}").format(relation(tenant.schema, "topic_paths"))
            ).fetchall()
            for topic_id, path in topics:
                block = tenant.container_block(topic_id)
                if block in shared:
                    continue
                found = [row[0] for row in conn.execute(
                    "select t.turn_id from conversation.turns t "
                    "join conversation.block_turns bt on t.turn_id = bt.turn_id "
                    "join conversation.blocks b on bt.block_id = b.block_id "
                    "where b.metadata->>'client_id' = %s and b.metadata->>'original_topic_path' = %s "
                    "order by bt.sequence_order",
                    (str(tenant.client_id), path),
                )]
                if found != expected.get(block, []):
                    problems.append(f"application query for {tenant.schema} {path!r}: {found} != {expected.get(block)}")
        return problems

    def check_reported_deletions(self, conn: psycopg.Connection, current: dict[uuid.UUID, LedgerTurn]) -> list[str]:
        """The reconciliation reports, per client, exactly the turns Backstage deleted after they were migrated."""
        deleted: dict[int, int] = defaultdict(int)
        for turn_id, turn in self.ledger.items():
            if turn_id not in current:
                deleted[turn.client_id] += 1
        reported = dict(conn.execute(
            "select client_id, deleted_in_source_rows from migration.reconciliation where entity = 'turn'"
        ).fetchall())
        return [
            f"client {client}: {reported.get(client, 0)} turns reported deleted in source, {count} were"
            for client, count in deleted.items() if reported.get(client, 0) != count
        ]


# -- running the migration ----------------------------------------------------------------------------------------
def run_migration(name: str, target: Path, always_build: bool = False) -> dict[str, int]:
    """One migration run (every step of `cogito-migrate run`); the rows it wrote per table. `always_build`: build
    even over the inputs of the last verified build (to prove that such a build writes nothing)."""
    out = io.StringIO()
    options = runner.RunOptions(database_name=name, target_path=target, output=out, always_build=always_build)
    result = runner.run_migration(options)
    assert result.ok, f"run failed at {result.failed_step}:\n{out.getvalue()[-5000:]}"
    written = options.record.dbt.rows_written if options.record.dbt else {}
    return {table: n for table, n in written.items() if n}


def migrated_oracle(name: str) -> Oracle:
    """The oracle of a database the migration has run on once, as that run left it (checked)."""
    oracle = Oracle()
    with database.connect(name) as conn:
        oracle.check(conn, oracle.observe(conn))
    return oracle


def target_digest(conn: psycopg.Connection) -> dict[str, str]:
    """md5 of every target table's rows (all columns), to prove a run changed nothing."""
    tables = [row[0] for row in conn.execute(
        "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind = 'r' and n.nspname = any(%s) and c.relname <> 'migration_runs' order by 1",
        (list(TARGET_SCHEMAS),),
    )]
    return {
        table: conn.execute(
            sql.SQL("select md5(coalesce(string_agg(t::text, ',' order by t::text), '')) from {} as t").format(
                relation(table)
            )
        ).fetchone()[0]
        for table in tables
    }


# -- changes in Backstage -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """What a change did, and the Backstage rows (other than turns) it deleted: (schema, table, id)."""

    description: str
    deleted: list[tuple[str, str, int]] = field(default_factory=list)
    row_id: int | None = None  # the Backstage row it changed, where there is one


def pick(rows: list[Any], n: int) -> Any:
    return rows[n % len(rows)] if rows else None


def turn_rows(conn: psycopg.Connection, tenant: Tenant) -> list[tuple]:
    """(id, container reference, turn_index) of every turn, in a stable order."""
    return conn.execute(
        sql.SQL("select id, {}, turn_index from {} order by id").format(
            sql.Identifier(tenant.topic_reference), relation(tenant.schema, tenant.turn_table)
        )
    ).fetchall()


def containers(conn: psycopg.Connection, tenant: Tenant) -> list[int]:
    return [row[0] for row in conn.execute(
        sql.SQL("select id from {} order by id").format(relation(tenant.schema, tenant.container_table))
    )]


def delete_turn(conn: psycopg.Connection, tenant: Tenant, n: int) -> Change:
    row = pick(turn_rows(conn, tenant), n)
    return Change("no turn to delete") if row is None else delete_turn_by_id(conn, tenant, row[0])


def delete_turn_by_id(conn: psycopg.Connection, tenant: Tenant, turn_id: int) -> Change:
    conn.execute(sql.SQL("delete from {} where id = %s").format(relation(tenant.schema, tenant.turn_table)), (turn_id,))
    return Change(f"deleted turn {tenant.schema}.{turn_id}", row_id=turn_id)


def insert_turn(conn: psycopg.Connection, tenant: Tenant, n: int, *, between: bool) -> Change:
    anchor = pick([row for row in turn_rows(conn, tenant) if row[1] is not None], n)
    return Change("no turn to insert next to") if anchor is None else insert_turn_after(
        conn, tenant, anchor[0], between=between
    )


def insert_turn_after(conn: psycopg.Connection, tenant: Tenant, anchor_id: int, *, between: bool) -> Change:
    """A new turn in the anchor's container: right after it at a fractional index (a comment, as Backstage files
    them) when a turn follows, else at the end (MAX + 1). Other columns keep their defaults; no vector."""
    turns = relation(tenant.schema, tenant.turn_table)
    reference = sql.Identifier(tenant.topic_reference)
    container, anchor_index = conn.execute(
        sql.SQL("select {}, turn_index from {} where id = %s").format(reference, turns), (anchor_id,)
    ).fetchone()
    siblings = sorted(row[0] for row in conn.execute(
        sql.SQL("select turn_index from {} where {} = %s").format(turns, reference), (container,)
    ))
    later = [index for index in siblings if index > anchor_index]
    if between and later:
        index, kind, content = (anchor_index + later[0]) / 2, 3, f"a late comment after turn {anchor_id}"
    else:
        index, kind, content = max(siblings) + 1, 1, f"a new prompt after turn {anchor_id}"
    if tenant.layout == "legacy":
        index = index.quantize(Decimal("0.01"))
    columns = "avatar_id, participant_id" if tenant.layout == "topic" else "avatar_id"
    conn.execute(
        sql.SQL(
            "insert into {turns} ({reference}, {columns}, turn_index, content_text, turn_kind_id, message_type_id) "
            "select {reference}, {columns}, %s, %s, %s, 1 from {turns} where id = %s"
        ).format(turns=turns, reference=reference, columns=sql.SQL(columns)),
        (index, content, kind, anchor_id),
    )
    return Change(f"inserted a turn at {index} in {tenant.schema} container {container}")


def edit_turn(conn: psycopg.Connection, tenant: Tenant, n: int) -> Change:
    row = pick(turn_rows(conn, tenant), n)
    return Change("no turn to edit") if row is None else edit_turn_by_id(conn, tenant, row[0])


def edit_turn_by_id(conn: psycopg.Connection, tenant: Tenant, turn_id: int) -> Change:
    conn.execute(
        sql.SQL("update {} set content_text = content_text || ' (edited)' where id = %s").format(
            relation(tenant.schema, tenant.turn_table)
        ),
        (turn_id,),
    )
    return Change(f"edited turn {tenant.schema}.{turn_id}", row_id=turn_id)


def move_turn(conn: psycopg.Connection, tenant: Tenant, n: int, m: int) -> Change:
    """A turn filed under another existing topic or conversation (not in the topicpathid variant)."""
    row, target = pick(turn_rows(conn, tenant), n), pick(containers(conn, tenant), m)
    if row is None or target is None or row[1] == target or tenant.topic_reference == "topicpathid":
        return Change("no move")
    return move_turn_by_id(conn, tenant, row[0], target)


def move_turn_by_id(conn: psycopg.Connection, tenant: Tenant, turn_id: int, target: int) -> Change:
    conn.execute(
        sql.SQL("update {} set {} = %s where id = %s").format(
            relation(tenant.schema, tenant.turn_table), sql.Identifier(tenant.topic_reference)
        ),
        (target, turn_id),
    )
    return Change(f"moved turn {tenant.schema}.{turn_id} to {target}", row_id=turn_id)


def clear_references(conn: psycopg.Connection, schema: str, table: str, row_id: int) -> None:
    """What the application must do before deleting a row others point at: nullable references become NULL,
    rows that cannot live without it go (foreign keys found in the catalogue, across schemas too)."""
    references = conn.execute(
        """
        select cls.relnamespace::regnamespace::text, cls.relname, att.attname, att.attnotnull
        from pg_constraint con
        join pg_class cls on cls.oid = con.conrelid
        join pg_attribute att on att.attrelid = con.conrelid and att.attnum = con.conkey[1]
        where con.contype = 'f' and con.confrelid = %s::regclass
        """,
        (f'"{schema}"."{table}"',),
    ).fetchall()
    for ref_schema, ref_table, column, not_null in references:
        statement = "delete from {table} where {column} = %s" if not_null else (
            "update {table} set {column} = null where {column} = %s"
        )
        conn.execute(
            sql.SQL(statement).format(table=relation(ref_schema, ref_table), column=sql.Identifier(column)), (row_id,)
        )


def delete_container(conn: psycopg.Connection, tenant: Tenant, n: int, *, with_turns: bool = True) -> Change:
    container = pick(containers(conn, tenant), n)
    if container is None or tenant.topic_reference == "topicpathid":
        return Change("no container to delete")
    return delete_container_by_id(conn, tenant, container, with_turns=with_turns)


def delete_container_by_id(conn: psycopg.Connection, tenant: Tenant, container: int, *, with_turns: bool = True
                           ) -> Change:
    """A topic (or legacy conversation) deleted, with its turns or leaving them behind (Backstage has no keys)."""
    if with_turns:
        conn.execute(
            sql.SQL("delete from {} where {} = %s").format(
                relation(tenant.schema, tenant.turn_table), sql.Identifier(tenant.topic_reference)
            ),
            (container,),
        )
    clear_references(conn, tenant.schema, tenant.container_table, container)
    conn.execute(
        sql.SQL("delete from {} where id = %s").format(relation(tenant.schema, tenant.container_table)), (container,)
    )
    return Change(
        f"deleted {tenant.container_table} {tenant.schema}.{container}" + (" with its turns" if with_turns else ""),
        [(tenant.schema, tenant.container_table, container)],
        row_id=container,
    )


_renames = iter(range(1, 10**9))


def rename_topic(conn: psycopg.Connection, tenant: Tenant, n: int, m: int, *, move: bool) -> Change:
    """A topic renamed (its last label changes) or moved under another topic (its path takes that prefix); a
    legacy conversation renamed."""
    if tenant.layout != "topic":
        container = pick(containers(conn, tenant), n)
        if container is None:
            return Change("no conversation to rename")
        conn.execute(
            sql.SQL("update {} set name = name || ' (renamed)' where id = %s").format(relation(tenant.schema, "grp_cons")),
            (container,),
        )
        return Change(f"renamed conversation {tenant.schema}.{container}", row_id=container)
    paths = conn.execute(
        sql.SQL("select id, path::text from {} order by id").format(relation(tenant.schema, "topic_paths"))
    ).fetchall()
    topic = pick(paths, n)
    if topic is None:
        return Change("no topic to rename")
    label = f"{topic[1].split('.')[-1]}_r{next(_renames)}"
    parent = pick([p for p in paths if p[0] != topic[0] and not p[1].startswith(topic[1] + ".")], m)
    if move and parent:
        return set_topic_path(conn, tenant, topic[0], f"{parent[1]}.{label}")
    return set_topic_path(conn, tenant, topic[0], ".".join([*topic[1].split(".")[:-1], label]))


def set_topic_path(conn: psycopg.Connection, tenant: Tenant, topic_id: int, path: str) -> Change:
    conn.execute(
        sql.SQL("update {} set path = %s::ltree where id = %s").format(relation(tenant.schema, "topic_paths")),
        (path, topic_id),
    )
    return Change(f"topic {tenant.schema}.{topic_id} now at {path}", row_id=topic_id)


def people_of(conn: psycopg.Connection, tenant: Tenant) -> list[int]:
    """People with a group membership in the tenant (a footprint the tests can end)."""
    return [row[0] for row in conn.execute(
        sql.SQL("select distinct participant_id from {} order by 1").format(
            relation(tenant.schema, "participant_groups")
        )
    )]


def change_person(conn: psycopg.Connection, tenant: Tenant, n: int, *, what: str) -> Change:
    person = pick(people_of(conn, tenant), n)
    if person is None:
        return Change("no person")
    if what == "email":
        conn.execute(
            "update public.participants set email = 'changed.' || id || '.' || %s || '@example.org' where id = %s",
            (next(_renames), person),
        )
    else:
        conn.execute("update public.participants set name = name || ' Renamed' where id = %s", (person,))
    return Change(f"changed the {what} of person {person}", row_id=person)


def change_email_by_id(conn: psycopg.Connection, person: int, email: str) -> Change:
    conn.execute("update public.participants set email = %s where id = %s", (email, person))
    return Change(f"person {person} now has email {email}", row_id=person)


def end_membership(conn: psycopg.Connection, tenant: Tenant, n: int) -> Change:
    rows = conn.execute(
        sql.SQL("select participant_id, group_id from {} order by 1, 2").format(
            relation(tenant.schema, "participant_groups")
        )
    ).fetchall()
    row = pick(rows, n)
    if row is None:
        return Change("no membership")
    conn.execute(
        sql.SQL("delete from {} where participant_id = %s and group_id = %s").format(
            relation(tenant.schema, "participant_groups")
        ),
        row,
    )
    return Change(f"ended the membership of person {row[0]} in {tenant.schema} group {row[1]}")


def delete_person(conn: psycopg.Connection, tenant: Tenant, n: int) -> Change:
    person = pick(people_of(conn, tenant), n)
    return Change("no person") if person is None else delete_person_by_id(conn, person)


def delete_person_by_id(conn: psycopg.Connection, person: int) -> Change:
    """A person deleted from Backstage: the rows that reference them first (as the application must); their turns
    stay (turn tables have no foreign keys)."""
    clear_references(conn, "public", "participants", person)
    conn.execute("delete from public.participants where id = %s", (person,))
    return Change(f"deleted person {person}", [("public", "participants", person)], row_id=person)


def delete_upload(conn: psycopg.Connection, tenant: Tenant, n: int) -> Change:
    table, chunks, key = (
        ("grp_con_uploads", "grp_con_upload_vectors", "upload_id") if tenant.layout == "legacy"
        else ("file_uploads", "file_upload_vectors", "file_upload_id")
    )
    upload = pick([row[0] for row in conn.execute(
        sql.SQL("select id from {} order by id").format(relation(tenant.schema, table))
    )], n)
    if upload is None:
        return Change("no upload")
    conn.execute(sql.SQL("delete from {} where {} = %s").format(relation(tenant.schema, chunks), sql.Identifier(key)),
                 (upload,))
    conn.execute(sql.SQL("delete from {} where id = %s").format(relation(tenant.schema, table)), (upload,))
    return Change(f"deleted upload {tenant.schema}.{table}.{upload} with its chunks", [(tenant.schema, table, upload)])


def delete_event(conn: psycopg.Connection, tenant: Tenant, n: int) -> Change:
    event = pick([row[0] for row in conn.execute(
        sql.SQL("select id from {} order by id").format(relation(tenant.schema, "participant_events"))
    )], n)
    if event is None:
        return Change("no event")
    conn.execute(sql.SQL("delete from {} where id = %s").format(relation(tenant.schema, "participant_events")),
                 (event,))
    return Change(f"deleted event {tenant.schema}.participant_events.{event}", [(tenant.schema, "participant_events", event)])


def remember_deleted(conn: psycopg.Connection, oracle: Oracle, change: Change) -> None:
    """The target rows behind the Backstage rows a change deleted (from the id map, so only rows an earlier run
    migrated): they must still be there after the next run."""
    for schema, table, source_id in change.deleted:
        oracle.deleted_rows.update(conn.execute(
            "select cogito_table, cogito_id from migration.migration_id_map "
            "where source_schema = %s and source_table = %s and source_id = %s",
            (schema, table, str(source_id)),
        ).fetchall())


# -- Cogito's own writes, as the application ----------------------------------------------------------------------
_cogito_numbers = iter(range(1, 10**9))


def next_cogito_uuid() -> uuid.UUID:
    return uuid.UUID(cogito_uuid4(next(_cogito_numbers)))


def sign_up_in_cogito(name: str, oracle: Oracle, email: str) -> uuid.UUID:
    """A person signs up in Cogito (as the application) into the migrated client: a user the migration must not
    touch, holding an email."""
    user = next_cogito_uuid()
    with database.connect(name, autocommit=False) as conn:
        as_application(conn, str(COGITO_CLIENT))
        conn.execute(
            "insert into client_mgmt.users (id, client_id, email, password_hash, is_active, created_at, metadata) "
            "values (%s, %s, %s, null, true, now(), '{}')",
            (user, COGITO_CLIENT, email),
        )
        conn.commit()
    with database.connect(name) as conn:
        oracle.cogito_rows[("client_mgmt.users", "id", str(user))] = conn.execute(
            "select t::text from client_mgmt.users as t where id = %s", (user,)
        ).fetchone()[0]
    return user


def write_as_application(name: str, oracle: Oracle, n: int, block: uuid.UUID | None = None) -> Change:
    """The application, as its own role with its client set, appends a turn to a migrated block of its client,
    starts a block of its own with a turn, and records a login. The rows it wrote join the oracle's watch list."""
    with database.connect(name, autocommit=False) as conn:
        as_application(conn, str(COGITO_CLIENT))
        blocks = [row[0] for row in conn.execute(
            "select block_id from conversation.blocks where substr(block_id::text, 15, 1) = '3' "
            "and block_type = 'conversation' order by block_id"
        )]
        speaker = conn.execute(
            "select id from conversation.participants where type = 'human' order by id limit 1"
        ).fetchone()[0]
        block = block or pick(blocks, n)
        turn, own_block, own_turn = next_cogito_uuid(), next_cogito_uuid(), next_cogito_uuid()
        conn.execute(
            "insert into conversation.turns (turn_id, client_id, participant_id, content, source_type, source_turn_id, "
            "timestamp, metadata) values (%s, %s, %s, 'written in Cogito', 'human_input', 'cogito', now(), '{}'), "
            "(%s, %s, %s, 'first turn of a Cogito block', 'human_input', 'cogito', now(), '{}')",
            (turn, COGITO_CLIENT, speaker, own_turn, COGITO_CLIENT, speaker),
        )
        conn.execute(
            "insert into conversation.blocks (block_id, client_id, name, block_type, created_by, created_at, metadata) "
            "values (%s, %s, 'started in Cogito', 'conversation', %s, now(), '{}')",
            (own_block, COGITO_CLIENT, speaker),
        )
        conn.execute(
            "insert into conversation.block_turns (block_id, turn_id, client_id, sequence_order) "
            "select %s, %s, %s, coalesce(max(sequence_order), 0) + 1 from conversation.block_turns where block_id = %s",
            (block, turn, COGITO_CLIENT, block),
        )
        conn.execute(
            "insert into conversation.block_turns (block_id, turn_id, client_id, sequence_order) values (%s, %s, %s, 1)",
            (own_block, own_turn, COGITO_CLIENT),
        )
        user = conn.execute("select id from client_mgmt.users order by id limit 1").fetchone()[0]
        conn.execute("update client_mgmt.users set last_login = now() where id = %s", (user,))
        conn.commit()
    with database.connect(name) as conn:
        for table, column, key in (
            ("conversation.turns", "turn_id", turn), ("conversation.turns", "turn_id", own_turn),
            ("conversation.blocks", "block_id", own_block),
        ):
            oracle.cogito_rows[(table, column, str(key))] = conn.execute(
                sql.SQL("select t::text from {} as t where {} = %s").format(
                    relation(table), sql.Identifier(column)
                ),
                (key,),
            ).fetchone()[0]
        oracle.previous = block_turn_rows(conn)  # the application's rows are part of what the run starts from
    return Change(f"the application appended a turn to block {block} and started block {own_block}")
