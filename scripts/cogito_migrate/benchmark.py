"""`cogito-migrate benchmark`: the migration against its floor, its re-runs and the row-by-row plan, per scale.

Per scale, in one simulated database `benchmark_scale_<scale>`, in this order:

1. simulate, then vacuum and analyze the source (settle); the turns are both turn tables of every schema (from the
   manifest); the database size now is the source size.
2. floor, on the freshly simulated database, before any migration: `create table ... as` of every turn of every
   migrated tenant, all its columns, with its client id (the client map) and nothing else (schema
   benchmark_floor). Then, timed apart, the equivalents of conversation.turns' indexes on that copy (FLOOR_INDEXES;
   the vector index reported on its own). Dropped afterwards.
3. full run: the migration in this process (runner.run_and_record) with a dbt target folder of its own; the
   build's phases come from dbt's results and events (build_phases); verify is the runner's step.
4. no-op re-run at once: nothing changed since the full run, so the run skips its build (build_inputs); then the
   same re-run built anyway (`--always-build`), the cost of an incremental build that finds nothing to write. Both
   must write 0 rows.
5. delta run after backstage_simulator.grow(amount=--growth).
6. row-by-row, the seed plan's loop, on a sample of the same turns read in one query first: per turn, over TCP,
   one insert into a copy of conversation.turns, one into a copy of conversation.block_turns (copies with every
   index but the vector index, without foreign keys; fresh uuids), one commit. Only the loop is timed (schema benchmark_row_by_row,
   dropped afterwards).
7. the peak RSS of this process and the database size after all of it.

Before the scales, the same parts on a scale-0.01 simulation (about 800 turns): what a run costs whatever the data
(FixedCost: dbt's parse and its work per node, the runner's steps). Each scale's table then shows what that fixed
cost allows on this machine: the least full run (the fixed cost plus the floor's copy) and the least delta run, the
seconds each target leaves beyond them, the most the row-by-row loop can be slower, and the cost per turn above the
fixed cost.

A checkpoint precedes every timed part, so that no part pays for the dirty buffers of the one before; dbt is
warmed up once before the first scale (warm_up_dbt), so no scale pays for Python importing it. Times are
printed and written as JSON, never asserted in a test (a wall-clock limit fails on a busy machine); the ratios
carry the meaning, and TARGETS holds the ones the performance issue set.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import backstage_simulator
import psycopg
import yaml
from psycopg import sql
from psycopg.types.json import Jsonb

from cogito_migrate import build_phases, database, discovery, reports, runner
from cogito_migrate.dbt import DEFAULT_TARGET, PROFILES_DIR, run_dbt, vector_index_build_memory

TURN_TABLES = ("grp_topic_avatar_turns", "grp_con_avatar_turns")
FLOOR_SCHEMA = "benchmark_floor"
ROW_BY_ROW_SCHEMA = "benchmark_row_by_row"
SCRATCH_SCHEMAS = (FLOOR_SCHEMA, ROW_BY_ROW_SCHEMA)
DEFAULT_JSON = DEFAULT_TARGET / "benchmark.json"
# The performance issue's targets, judged at scale 10: ratio -> (comparison, bound).
TARGETS = {
    "full_over_floor": ("<=", 3.0),
    "noop_over_full": ("<=", 0.05),
    "delta_over_full": ("<=", 0.10),
    "row_by_row_over_full_per_turn": (">=", 5.0),
}
# The scale whose runs stand for a run's fixed cost: about 800 turns, so next to nothing depends on the data.
FIXED_COST_SCALE = 0.01
# The build's phases as the table shows them; `other steps` is the rest of the full run.
PHASE_ROWS = ("staging", "intermediate", "marts", "lenses", "indexes", "tests")
T = TypeVar("T")


class BenchmarkError(RuntimeError):
    """A measured part did not do its job (a failed migration run); the message names the step."""


@dataclass(frozen=True)
class FloorIndex:
    label: str
    statement: str  # {table} is the floor's copy
    mirrors: str  # the conversation.turns index it stands for


# conversation.turns' indexes (models/marts/conversation/_conversation__models.yml), on the floor's columns.
FLOOR_INDEXES = (
    FloorIndex("primary key", "alter table {table} add primary key (client_id, source_table, id)", "turns_pkey"),
    FloorIndex("client_id", "create index on {table} (client_id)", "turns__client_id"),
    FloorIndex("participant_id", "create index on {table} (participant_id)", "turns__participant_id"),
    FloorIndex("source key", "create unique index on {table} (source_schema, source_table, id)",
               "turns__source_turn_id_key"),
    FloorIndex("vector", "create index on {table} using hnsw (content_vector vector_cosine_ops)",
               "turns__content_vector_cosine"),
)
VECTOR_INDEX = "vector"


@dataclass(frozen=True)
class BenchmarkOptions:
    scale: float
    seed: int = 42
    row_sample: int = 5000
    growth: float = 0.01
    keep: bool = False  # keep the database (the scratch schemas are dropped regardless)
    database_name: str | None = None  # default benchmark_scale_<scale>
    target_path: Path | None = None  # dbt's target folder; default target/benchmark/<database>, emptied first

    @property
    def database(self) -> str:
        return self.database_name or f"benchmark_scale_{str(self.scale).replace('.', '_')}"


@dataclass(frozen=True)
class TurnTable:
    """One tenant's turn table, with the client the client map gives its schema."""

    client_id: int
    schema: str
    table: str
    columns: dict[str, str]  # column -> type, in table order


@dataclass(frozen=True)
class Floor:
    rows: int
    copy_seconds: float
    index_seconds: dict[str, float]  # FloorIndex.label -> seconds

    @property
    def with_indexes_seconds(self) -> float:
        return self.copy_seconds + sum(self.index_seconds.values())


@dataclass(frozen=True)
class Run:
    """One migration run: its wall time, the runner's steps, the build's phases (wall seconds shared as
    build_phases says, and plain node-time sums), and the rows its marts wrote."""

    seconds: float
    steps: dict[str, float]
    phases: dict[str, float]
    phase_node_seconds: dict[str, float]
    rows_written: int
    build_skipped: bool = False

    def phase(self, name: str) -> float:
        """A table row's phase: `indexes` holds the vector indexes too; `verify` is the runner's step."""
        if name == "verify":
            return self.steps.get("verify", 0.0)
        if name == "indexes":
            return self.phases["indexes"] + self.phases["vector indexes"]
        return self.phases[name]

    @property
    def other_seconds(self) -> float:
        """Everything outside the phases: server, discovery, passwords, report, audit, dbt's start-up and
        parse, the build's seed and hooks."""
        return self.seconds - sum(self.phase(name) for name in (*PHASE_ROWS, "verify"))


@dataclass(frozen=True)
class RowByRow:
    turns: int
    seconds: float


@dataclass(frozen=True)
class ScaleResult:
    scale: float
    database: str
    turns: int
    delta_turns: int
    growth: float
    floor: Floor
    full: Run
    noop: Run
    noop_build: Run
    delta: Run
    row_by_row: RowByRow
    size_bytes: dict[str, int]  # source, after_full_run, after (scratch schemas dropped)
    peak_rss_kib: dict[str, int]  # after_full_run, after (this process: cumulative over earlier scales)
    target_turn_indexes: list[str] = field(default_factory=list)

    @property
    def full_without_vector_indexes(self) -> float:
        return self.full.seconds - self.full.phases["vector indexes"]

    @property
    def migration_alone(self) -> float:
        """The full run without its vector indexes and without the lenses (analysis over the migrated rows, which
        neither the floor nor the row-by-row loop computes): reported beside the targets, not instead of them."""
        return self.full_without_vector_indexes - self.full.phases["lenses"]

    def ratios(self) -> dict[str, float]:
        full_per_turn = self.full.seconds / self.turns
        row_by_row_per_turn = self.row_by_row.seconds / self.row_by_row.turns
        return {
            # the issue's target: the vector indexes' build apart (the floor and the row-by-row loop build none)
            "full_over_floor": self.full_without_vector_indexes / self.floor.copy_seconds,
            "full_with_vector_indexes_over_floor": self.full.seconds / self.floor.copy_seconds,
            "full_over_floor_with_indexes": self.full.seconds / self.floor.with_indexes_seconds,
            "noop_over_full": self.noop.seconds / self.full.seconds,
            "noop_build_over_full": self.noop_build.seconds / self.full.seconds,
            "delta_over_full": self.delta.seconds / self.full.seconds,
            # like for like: the loop inserts into copies without the vector index, so the full run counts without
            # its vector indexes' build too (and with it, below)
            "row_by_row_over_full_per_turn": row_by_row_per_turn / (self.full_without_vector_indexes / self.turns),
            "row_by_row_over_full_with_vector_indexes_per_turn": row_by_row_per_turn / full_per_turn,
            "migration_alone_over_floor": self.migration_alone / self.floor.copy_seconds,
            "row_by_row_over_migration_alone_per_turn": row_by_row_per_turn / (self.migration_alone / self.turns),
            "full_microseconds_per_turn": full_per_turn * 1e6,
            "floor_microseconds_per_turn": self.floor.copy_seconds / self.turns * 1e6,
            "size_after_over_source": self.size_bytes["after"] / self.size_bytes["source"],
        }

    def targets_met(self) -> dict[str, bool]:
        ratios = self.ratios()
        return {name: ratios[name] <= bound if op == "<=" else ratios[name] >= bound
                for name, (op, bound) in TARGETS.items()}

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratios": self.ratios(), "targets_met": self.targets_met()}


@dataclass(frozen=True)
class FixedCost:
    """What a run costs whatever the data: the full run (without its vector indexes), the re-build that finds
    nothing to write and the delta run of a tiny simulation (FIXED_COST_SCALE). The tiny delta grows the same
    tables as a scale's delta, so it builds the same nodes."""

    scale: float
    turns: int
    full_seconds: float
    rebuild_seconds: float
    delta_seconds: float

    @classmethod
    def of(cls, result: ScaleResult) -> FixedCost:
        return cls(result.scale, result.turns, result.full_without_vector_indexes, result.noop_build.seconds,
                   result.delta.seconds)

    def bounds(self, result: ScaleResult) -> dict[str, float]:
        """What this fixed cost allows at the result's scale: the targets' ratios at their best, the seconds each
        target leaves for the work beyond its least run (negative: none), and what the measured runs spent there."""
        floor = result.floor.copy_seconds
        least_full = self.full_seconds + floor  # the fixed cost, and the turns copied once
        row_by_row_per_turn = result.row_by_row.seconds / result.row_by_row.turns
        full_bound, delta_bound = TARGETS["full_over_floor"][1], TARGETS["delta_over_full"][1]
        row_by_row_bound = TARGETS["row_by_row_over_full_per_turn"][1]
        return {
            "fixed_cost_over_floor": self.full_seconds / floor,
            "least_full_seconds": least_full,
            "least_full_over_floor": least_full / floor,
            "full_room_seconds": full_bound * floor - least_full,
            "full_beyond_least_seconds": result.full_without_vector_indexes - least_full,
            "least_rebuild_over_full": self.rebuild_seconds / result.full.seconds,
            "least_delta_over_full": self.delta_seconds / result.full.seconds,
            "delta_room_seconds": delta_bound * result.full.seconds - self.delta_seconds,
            "delta_beyond_least_seconds": result.delta.seconds - self.delta_seconds,
            "most_row_by_row_over_full_per_turn": row_by_row_per_turn / (least_full / result.turns),
            "row_by_row_room_seconds": row_by_row_per_turn * result.turns / row_by_row_bound - least_full,
            "microseconds_per_turn_above_fixed_cost":
                (result.full_without_vector_indexes - self.full_seconds) / result.turns * 1e6,
        }


# -- helpers -----------------------------------------------------------------------------------------------------
def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def checkpoint(conn: psycopg.Connection) -> None:
    """Write out dirty buffers now, so the next timed part is not charged for the previous part's writes."""
    conn.execute("checkpoint")


def settle(name: str) -> None:
    """Vacuum and analyze the freshly simulated source, as a restored Backstage would be before a migration: else
    autovacuum works through the new tables during the floor and the full run (the floor took 8 to 21 s at scale 10
    in three runs without this)."""
    with database.connect(name) as conn:
        conn.execute("vacuum (analyze)")


def database_size(name: str) -> int:
    with database.connect(name) as conn:
        checkpoint(conn)
        return conn.execute("select pg_database_size(current_database())").fetchone()[0]


def peak_rss_kib() -> int:
    """This process's peak resident set so far (ru_maxrss: KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def turns_in(manifest: dict[str, Any]) -> int:
    """Rows of both turn tables over every schema of a simulate or grow manifest."""
    return sum(rows for entry in manifest["schemas"].values()
               for table, rows in entry["tables"].items() if table in TURN_TABLES)


def drop_schema(conn: psycopg.Connection, schema: str) -> None:
    conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))


def warm_up_dbt() -> None:
    """One untimed `dbt parse` in a scratch folder: dbt's imports and first set-up are then paid before the first
    scale, as they are before every later one, and every full run pays only its own (full) parse."""
    with tempfile.TemporaryDirectory(prefix="benchmark-warm-up-") as folder:
        run_dbt("parse", target_path=Path(folder), capture=True, check=True)


def dbt_threads() -> int | None:
    """The profile's threads: the build's phases overlap by up to this many nodes."""
    profile = yaml.safe_load((PROFILES_DIR / "profiles.yml").read_text())
    return next(iter(profile.values()))["outputs"]["migration"].get("threads")


# -- the source turns --------------------------------------------------------------------------------------------
def turn_tables(conn: psycopg.Connection) -> list[TurnTable]:
    """Every turn table of every migrated tenant: discovery's inventory, the client map's client ids."""
    clients = discovery.read_client_map(database.PROJECT_ROOT / discovery.CLIENT_MAP_FILE)
    found = []
    for item in discovery.inventory(discovery.read_catalogue(conn)):
        client = clients.get(item.schema)
        if item.kind != "tenant" or client is None or not client.migrate:
            continue
        found += [TurnTable(client.client_id, item.schema, table, dict(item.tables[table]))
                  for table in TURN_TABLES if table in item.tables]
    return found


def all_columns(tables: list[TurnTable]) -> dict[str, str]:
    """Every column any turn table has, with the type of the first table that has it."""
    columns: dict[str, str] = {}
    for table in tables:
        for name, data_type in table.columns.items():
            columns.setdefault(name, data_type)
    return columns


def turns_union(tables: list[TurnTable], columns: dict[str, str]) -> sql.Composed:
    """Every turn with its client id, schema and table; a column a table lacks is a typed NULL."""
    branches = []
    for table in tables:
        values = [
            sql.SQL("{} as {}").format(
                sql.Identifier(name) if name in table.columns else sql.SQL("cast(null as {})").format(sql.SQL(kind)),
                sql.Identifier(name),
            )
            for name, kind in columns.items()
        ]
        branches.append(sql.SQL(
            "select {client} as client_id, cast({schema} as text) as source_schema, "
            "cast({table} as text) as source_table, {values} from {relation}"
        ).format(client=sql.Literal(table.client_id), schema=sql.Literal(table.schema),
                 table=sql.Literal(table.table), values=sql.SQL(", ").join(values),
                 relation=sql.Identifier(table.schema, table.table)))
    return sql.SQL(" union all ").join(branches)


# -- floor -------------------------------------------------------------------------------------------------------
def measure_floor(name: str, tables: list[TurnTable]) -> Floor:
    """The copy of every turn, then each of FLOOR_INDEXES on it, each timed after a checkpoint."""
    relation = sql.Identifier(FLOOR_SCHEMA, "turns")
    with database.connect(name) as conn:
        drop_schema(conn, FLOOR_SCHEMA)
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(FLOOR_SCHEMA)))
        try:
            checkpoint(conn)
            copy = sql.SQL("create table {} as {}").format(relation, turns_union(tables, all_columns(tables)))
            rows, copy_seconds = timed(lambda: conn.execute(copy).rowcount)
            # the most the marts' vector index build may take (it takes what its graph needs), so both builds
            # compare: in memory whenever the graph fits
            memory = vector_index_build_memory()
            conn.execute(sql.SQL("set maintenance_work_mem = {}").format(sql.Literal(memory)))
            index_seconds = {}
            for index in FLOOR_INDEXES:
                checkpoint(conn)
                statement = sql.SQL(index.statement).format(table=relation)
                _, index_seconds[index.label] = timed(lambda statement=statement: conn.execute(statement))
        finally:
            drop_schema(conn, FLOOR_SCHEMA)
    return Floor(rows, copy_seconds, index_seconds)


# -- migration runs ----------------------------------------------------------------------------------------------
def timed_run(name: str, target_path: Path, always_build: bool = False) -> Run:
    """One `cogito-migrate run` in this process, its output kept aside; raises when a step failed."""
    log = io.StringIO()
    timer = build_phases.IndexTimer()
    options = runner.RunOptions(database_name=name, target_path=target_path, output=log, always_build=always_build,
                                dbt_callbacks=(timer,))
    with database.connect(name) as conn:
        checkpoint(conn)
    with contextlib.redirect_stdout(log):
        (result, _), seconds = timed(lambda: runner.run_and_record(options))
    if not result.ok:
        failed = next(step for step in result.steps if not step.ok)
        raise BenchmarkError(f"the migration of {name} failed in step {failed.name!r}: {failed.message}\n"
                             f"{log.getvalue()[-3000:]}")
    steps = {step.name: step.seconds for step in result.steps}
    if options.record.build_skipped:
        return Run(seconds, steps, {}, {}, 0, build_skipped=True)
    results = options.record.dbt
    if results is None or results.invocation_id is None:
        raise BenchmarkError(f"the build of {name} left no run_results.json in {target_path}")
    phases = build_phases.read_build_phases(target_path, results.invocation_id, timer)
    return Run(seconds, steps, phases.seconds, phases.node_seconds, sum(results.rows_written.values()))


def target_turn_indexes(name: str) -> list[str]:
    """conversation.turns' indexes as the migration built them: what FLOOR_INDEXES stand for."""
    with database.connect(name) as conn:
        return [row[0] for row in conn.execute(
            "select indexdef from pg_indexes where schemaname = 'conversation' and tablename = 'turns' "
            "order by indexname").fetchall()]


# -- row by row --------------------------------------------------------------------------------------------------
SAMPLE_COLUMNS = ("id", "avatar_id", "topic_id", "topicpathid", "grp_con_id", "content_text", "content_vector",
                  "created_at", "updated_at", "turn_index", "turn_kind_id", "message_type_id")
# The sample's keys are chosen first, from the keys alone: sorting whole turns (a vector as text is about 20 kB)
# spilled about 20 GB to disk at scale 50.
SAMPLE_QUERY = """
with picked as materialized (
    select source_schema, source_table, id, md5(source_schema || '.' || source_table || '.' || id) as position
    from ({keys}) as turn_keys
    order by position
    limit {limit}
)
select turns.client_id, turns.source_schema, turns.source_table, turns.id, turns.avatar_id,
       coalesce(cast(turns.topic_id as text), turns.topicpathid, cast(turns.grp_con_id as text)) as container,
       turns.content_text, cast(turns.content_vector as text),
       coalesce(turns.created_at, turns.updated_at, now()), cast(turns.turn_index as text),
       turns.turn_kind_id, turns.message_type_id
from ({union}) as turns
inner join picked using (source_schema, source_table, id)
order by picked.position
"""
INSERT_TURN = """
insert into {schema}.turns (turn_id, client_id, participant_id, content, source_type, source_turn_id, "timestamp",
                            content_vector, metadata)
values (%s, %s, %s, %s, %s, %s, %s, cast(%s as vector), %s)
"""
INSERT_LINK = "insert into {schema}.block_turns (block_id, turn_id, client_id, sequence_order) values (%s, %s, %s, %s)"


def read_sample(conn: psycopg.Connection, tables: list[TurnTable], size: int) -> list[tuple]:
    """`size` turns in a fixed pseudo-random order (by a hash of their source key), in one query."""
    known = all_columns(tables)
    columns = {name: known.get(name, "text") for name in SAMPLE_COLUMNS}
    query = sql.SQL(SAMPLE_QUERY).format(keys=turns_union(tables, {"id": columns["id"]}),
                                         union=turns_union(tables, columns), limit=sql.Literal(size))
    return conn.execute(query).fetchall()


def source_type(turn_kind_id: int | None, message_type_id: int | None) -> str:
    """As the turns mart says: `comment` (turn kind 3), `ai_response` (message type 2), else `human_input`."""
    if turn_kind_id == 3:
        return "comment"
    return "ai_response" if message_type_id == 2 else "human_input"


def row_by_row_rows(sample: list[tuple]) -> list[tuple[tuple, tuple]]:
    """Each sampled turn as the seed plan wrote it: (turns row, block_turns row), fresh uuids, one block per
    topic or conversation, positions in sample order."""
    speakers: dict[tuple, uuid.UUID] = {}
    blocks: dict[tuple, uuid.UUID] = {}
    positions: dict[uuid.UUID, int] = {}
    rows = []
    for (client_id, schema, table, turn_id, avatar_id, container, content, vector, at, turn_index, kind,
         message_type) in sample:
        new_id = uuid.uuid4()
        speaker = speakers.setdefault((client_id, schema, avatar_id), uuid.uuid4())
        block = blocks.setdefault((client_id, schema, table, container), uuid.uuid4())
        positions[block] = positions.get(block, 0) + 1
        metadata = Jsonb({"client_id": client_id, "migrated_from": "backstage", "schema_name": schema,
                          "source_table": table, "original_turn_id": turn_id, "turn_index": turn_index})
        rows.append((
            (new_id, client_id, speaker, content, source_type(kind, message_type), f"{schema}.{table}.{turn_id}", at,
             vector, metadata),
            (block, new_id, client_id, positions[block]),
        ))
    return rows


def measure_row_by_row(name: str, tables: list[TurnTable], size: int) -> RowByRow:
    """The loop on copies of the two target tables (every index but the vector index, which the seed plan did not
    build either; no foreign key); only the loop is timed."""
    schema = sql.Identifier(ROW_BY_ROW_SCHEMA)
    with database.connect(name) as conn:
        drop_schema(conn, ROW_BY_ROW_SCHEMA)
        try:
            conn.execute(sql.SQL("create schema {}").format(schema))
            for table in ("turns", "block_turns"):
                conn.execute(sql.SQL("create table {} (like {} including all)").format(
                    sql.Identifier(ROW_BY_ROW_SCHEMA, table), sql.Identifier("conversation", table)))
            for (index,) in conn.execute(
                "select indexname from pg_indexes where schemaname = %s and indexdef like '%%USING hnsw%%'",
                (ROW_BY_ROW_SCHEMA,),
            ).fetchall():
                conn.execute(sql.SQL("drop index {}").format(sql.Identifier(ROW_BY_ROW_SCHEMA, index)))
            rows = row_by_row_rows(read_sample(conn, tables, size))
            checkpoint(conn)
            _, seconds = timed(lambda: insert_one_by_one(name, rows, schema))
        finally:
            drop_schema(conn, ROW_BY_ROW_SCHEMA)
    return RowByRow(len(rows), seconds)


def insert_one_by_one(name: str, rows: list[tuple[tuple, tuple]], schema: sql.Identifier) -> None:
    """Per turn: insert it, insert its block link, commit (a connection over TCP, as an application has)."""
    insert_turn = sql.SQL(INSERT_TURN).format(schema=schema)
    insert_link = sql.SQL(INSERT_LINK).format(schema=schema)
    with database.connect(name, autocommit=False) as conn:
        for turn, link in rows:
            conn.execute(insert_turn, turn)
            conn.execute(insert_link, link)
            conn.commit()


# -- one scale ---------------------------------------------------------------------------------------------------
def measure(options: BenchmarkOptions) -> ScaleResult:
    """Simulate, measure every part in order (module docstring), drop the database unless `keep`."""
    name = options.database
    target = options.target_path or DEFAULT_TARGET / "benchmark" / name
    if options.target_path is None:
        shutil.rmtree(target, ignore_errors=True)  # every scale's full run parses the project from scratch
    manifest, seconds = timed(lambda: backstage_simulator.simulate(name, options.scale, options.seed))
    progress(f"scale {options.scale}: simulated {turns_in(manifest):,} turns in {seconds:.1f}s")
    try:
        return measure_simulated(name, target, manifest, options)
    finally:
        if not options.keep:
            with database.connect("postgres") as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def measure_simulated(name: str, target: Path, manifest: dict[str, Any], options: BenchmarkOptions) -> ScaleResult:
    turns = turns_in(manifest)
    settle(name)
    size = {"source": database_size(name)}
    with database.connect(name) as conn:
        tables = turn_tables(conn)
    floor = measure_floor(name, tables)
    progress(f"  floor {floor.copy_seconds:.1f}s, + indexes {floor.with_indexes_seconds:.1f}s")
    full = timed_run(name, target)
    rss = {"after_full_run": peak_rss_kib()}
    size["after_full_run"] = database_size(name)
    indexes = target_turn_indexes(name)
    progress(f"  full run {full.seconds:.1f}s")
    noop = timed_run(name, target)
    progress(f"  no-op re-run {noop.seconds:.1f}s (build {'skipped' if noop.build_skipped else 'ran'}), "
             f"{noop.rows_written} rows written")
    noop_build = timed_run(name, target, always_build=True)
    progress(f"  no-op re-build {noop_build.seconds:.1f}s, {noop_build.rows_written} rows written")
    growth = backstage_simulator.grow(name, seed=options.seed, amount=options.growth)
    delta = timed_run(name, target)
    progress(f"  delta run {delta.seconds:.1f}s, {delta.rows_written} rows written")
    row_by_row = measure_row_by_row(name, tables, options.row_sample)
    progress(f"  row-by-row {row_by_row.turns:,} turns in {row_by_row.seconds:.1f}s")
    size["after"] = database_size(name)
    rss["after"] = peak_rss_kib()
    return ScaleResult(options.scale, name, turns, turns_in(growth), options.growth, floor, full, noop, noop_build,
                       delta, row_by_row, size, rss, indexes)


# -- output ------------------------------------------------------------------------------------------------------
def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _rate(turns: int, seconds: float) -> str:
    return f"{turns / seconds:,.0f}" if seconds > 0 else ""


def _target(name: str, result: ScaleResult) -> list[str]:
    op, bound = TARGETS[name]
    return [f"{op} {bound:g}", "yes" if result.targets_met()[name] else "no"]


def scale_rows(result: ScaleResult) -> list[list[str]]:
    """measure, seconds, turns/s, rows written, ratio, ratio of, target, met."""
    floor, full, ratios = result.floor, result.full, result.ratios()
    sample = result.row_by_row
    per_turn = sample.seconds / sample.turns
    no_target = ["", ""]
    rows = [
        ["floor (create table as)", _seconds(floor.copy_seconds), _rate(floor.rows, floor.copy_seconds), "", "",
         "", *no_target],
        ["floor + indexes", _seconds(floor.with_indexes_seconds), _rate(floor.rows, floor.with_indexes_seconds), "",
         f"{floor.with_indexes_seconds / floor.copy_seconds:.2f}", "/ floor", *no_target],
        ["  vector index", _seconds(floor.index_seconds[VECTOR_INDEX]), "", "",
         f"{floor.index_seconds[VECTOR_INDEX] / floor.with_indexes_seconds:.2f}", "/ floor + indexes", *no_target],
        ["full run", _seconds(full.seconds), _rate(result.turns, full.seconds), f"{full.rows_written:,}",
         f"{ratios['full_with_vector_indexes_over_floor']:.2f}", "/ floor", *no_target],
        ["  without vector indexes", _seconds(result.full_without_vector_indexes),
         _rate(result.turns, result.full_without_vector_indexes), "", f"{ratios['full_over_floor']:.2f}", "/ floor",
         *_target("full_over_floor", result)],
        ["  vs floor + indexes", "", "", "", f"{ratios['full_over_floor_with_indexes']:.2f}", "/ floor + indexes",
         *no_target],
        ["  without vector indexes and lenses", _seconds(result.migration_alone),
         _rate(result.turns, result.migration_alone), "", f"{ratios['migration_alone_over_floor']:.2f}", "/ floor",
         *no_target],
    ]
    for phase in (*PHASE_ROWS, "verify"):
        rows.append([f"  {phase}", _seconds(full.phase(phase)), "", "", f"{full.phase(phase) / full.seconds:.2f}",
                     "/ full run", *no_target])
        if phase == "indexes":
            vector = full.phases["vector indexes"]
            rows.append(["    vector (hnsw)", _seconds(vector), "", "", f"{vector / full.seconds:.2f}", "/ full run",
                         *no_target])
    rows += [
        ["  other steps", _seconds(full.other_seconds), "", "", f"{full.other_seconds / full.seconds:.2f}",
         "/ full run", *no_target],
        [f"no-op re-run (build {'skipped' if result.noop.build_skipped else 'ran'})", _seconds(result.noop.seconds),
         "", f"{result.noop.rows_written:,}", f"{ratios['noop_over_full']:.3f}", "/ full run",
         *_target("noop_over_full", result)],
        ["  built anyway (--always-build)", _seconds(result.noop_build.seconds), "",
         f"{result.noop_build.rows_written:,}", f"{ratios['noop_build_over_full']:.3f}", "/ full run", *no_target],
        [f"delta run ({result.growth:.0%})", _seconds(result.delta.seconds),
         _rate(result.delta_turns, result.delta.seconds), f"{result.delta.rows_written:,}",
         f"{ratios['delta_over_full']:.3f}", "/ full run", *_target("delta_over_full", result)],
        [f"row-by-row (sample {sample.turns:,})", _seconds(sample.seconds), _rate(sample.turns, sample.seconds),
         f"{2 * sample.turns:,}", f"{ratios['row_by_row_over_full_per_turn']:.1f}",
         "per turn / full run's w/o vector indexes", *_target("row_by_row_over_full_per_turn", result)],
        ["  against the full run with them", "", "", "",
         f"{ratios['row_by_row_over_full_with_vector_indexes_per_turn']:.1f}", "per turn / full run's", *no_target],
        ["  against it without lenses either", "", "", "",
         f"{ratios['row_by_row_over_migration_alone_per_turn']:.1f}", "per turn / w/o vector indexes, lenses",
         *no_target],
        ["  all turns (extrapolated)", _seconds(per_turn * result.turns), "", "", "", "", *no_target],
    ]
    return rows


def _room(name: str, seconds: float) -> list[str]:
    """The target beside a least run: the seconds it leaves for everything beyond that run, or none."""
    op, bound = TARGETS[name]
    return [f"{op} {bound:g}", f"leaves {seconds:.1f} s" if seconds > 0 else "out of reach"]


def fixed_cost_rows(result: ScaleResult, fixed: FixedCost) -> list[list[str]]:
    """What the fixed cost allows at this scale (FixedCost.bounds): each target's least run, the room the target
    leaves beyond it, and what this scale's run spent beyond it."""
    bounds = fixed.bounds(result)
    floor, full = result.floor.copy_seconds, result.full.seconds
    least_full = bounds["least_full_seconds"]
    beyond_full, beyond_delta = bounds["full_beyond_least_seconds"], bounds["delta_beyond_least_seconds"]
    return [
        [f"fixed cost (full run at scale {fixed.scale:g}, {fixed.turns:,} turns)", _seconds(fixed.full_seconds), "",
         "", f"{bounds['fixed_cost_over_floor']:.2f}", "/ floor", "", ""],
        ["  least full run: fixed cost + floor", _seconds(least_full), _rate(result.turns, least_full), "",
         f"{bounds['least_full_over_floor']:.2f}", "/ floor", *_room("full_over_floor", bounds["full_room_seconds"])],
        ["    this full run (w/o vector indexes) beyond it", _seconds(beyond_full), "", "",
         f"{beyond_full / floor:.2f}", "/ floor", "", ""],
        [f"  least delta run (scale {fixed.scale:g}, the same tables grown)", _seconds(fixed.delta_seconds), "", "",
         f"{bounds['least_delta_over_full']:.3f}", "/ full run", *_room("delta_over_full", bounds["delta_room_seconds"])],
        ["    this delta run beyond it", _seconds(beyond_delta), "", "", f"{beyond_delta / full:.3f}", "/ full run",
         "", ""],
        [f"  least re-build (scale {fixed.scale:g}, nothing to write)", _seconds(fixed.rebuild_seconds), "", "",
         f"{bounds['least_rebuild_over_full']:.3f}", "/ full run", "", ""],
        ["  most row-by-row can be slower", "", "", "", f"{bounds['most_row_by_row_over_full_per_turn']:.1f}",
         "per turn / least full run", *_room("row_by_row_over_full_per_turn", bounds["row_by_row_room_seconds"])],
        ["  full run w/o vector indexes, above the fixed cost", "", "", "",
         f"{bounds['microseconds_per_turn_above_fixed_cost']:,.0f}", "us per turn", "", ""],
    ]


def format_scale(result: ScaleResult, fixed: FixedCost | None = None) -> str:
    header = ["measure", "seconds", "turns/s", "rows written", "ratio", "ratio of", "target", "met"]
    mib = 2**20
    size, rss = result.size_bytes, result.peak_rss_kib
    written = result.noop.rows_written + result.noop_build.rows_written
    noop = "0 rows, as it must" if written == 0 else f"{written:,} rows: NOT A NO-OP"
    return "\n".join([
        f"scale {result.scale:g}: {result.turns:,} turns (+{result.delta_turns:,} grown), database {result.database}",
        reports.format_table(header, scale_rows(result) + (fixed_cost_rows(result, fixed) if fixed else []),
                             left_columns=1),
        f"no-op re-runs wrote {noop}",
        *([f"WARNING: the full run's phases add up to more than the run ({result.full.other_seconds:.1f} s left): "
           "their split is unreliable in this run"] if result.full.other_seconds < 0 else []),
        f"peak RSS of this process: {rss['after_full_run'] / 1024:,.0f} MiB after the full run, "
        f"{rss['after'] / 1024:,.0f} MiB at the end",
        f"database size: {size['source'] / mib:,.0f} MiB source, {size['after_full_run'] / mib:,.0f} MiB after the "
        f"full run, {size['after'] / mib:,.0f} MiB at the end ({result.ratios()['size_after_over_source']:.2f} x "
        "source; the end includes the growth)",
    ])


def summary_rows(results: list[ScaleResult], fixed: FixedCost | None = None) -> list[dict[str, float]]:
    """Per scale: turns and the full run's cost per turn, against the first and the previous scale; with a fixed
    cost, also the cost per turn above it (without the vector indexes), which is what grows with the data."""
    rows: list[dict[str, float]] = []
    for result in results:
        cost = result.ratios()["full_microseconds_per_turn"]
        first = rows[0]["full_microseconds_per_turn"] if rows else cost
        previous = rows[-1]["full_microseconds_per_turn"] if rows else cost
        rows.append({"scale": result.scale, "turns": result.turns, "full_seconds": result.full.seconds,
                     "full_microseconds_per_turn": cost, "per_turn_over_first": cost / first,
                     "per_turn_over_previous": cost / previous,
                     "floor_microseconds_per_turn": result.ratios()["floor_microseconds_per_turn"]})
        if fixed is not None:
            rows[-1]["microseconds_per_turn_above_fixed_cost"] = \
                fixed.bounds(result)["microseconds_per_turn_above_fixed_cost"]
    return rows


def format_summary(results: list[ScaleResult], fixed: FixedCost | None = None) -> str:
    header = ["scale", "turns", "full run s", "us/turn", "x first", "x previous", "floor us/turn"]
    rows = summary_rows(results, fixed)
    cells = [[f"{row['scale']:g}", f"{row['turns']:,}", f"{row['full_seconds']:.1f}",
              f"{row['full_microseconds_per_turn']:,.0f}", f"{row['per_turn_over_first']:.2f}",
              f"{row['per_turn_over_previous']:.2f}", f"{row['floor_microseconds_per_turn']:,.0f}"]
             for row in rows]
    if fixed is not None:
        header.append("us/turn above fixed cost")
        for row, cell in zip(rows, cells, strict=True):
            cell.append(f"{row['microseconds_per_turn_above_fixed_cost']:,.0f}")
    return reports.format_table(header, cells, left_columns=0)


def benchmark_document(results: list[ScaleResult], settings: dict[str, Any],
                       fixed: FixedCost | None = None) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "settings": {**settings, "dbt_threads": dbt_threads(), "cpus": os.cpu_count()},
        "targets": {name: f"{op} {bound:g}" for name, (op, bound) in TARGETS.items()},
        "floor_indexes": {index.label: {"statement": index.statement, "mirrors": index.mirrors}
                          for index in FLOOR_INDEXES},
        "fixed_cost": asdict(fixed) if fixed else None,
        "scales": [{**result.as_json(), "bounds": fixed.bounds(result) if fixed else None} for result in results],
        "per_turn": summary_rows(results, fixed),
    }


def write_json(path: Path, results: list[ScaleResult], settings: dict[str, Any],
               fixed: FixedCost | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(benchmark_document(results, settings, fixed), indent=2) + "\n", encoding="utf-8")
    return path


# -- command line ------------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scales", default="1", help="comma-separated simulator scales; the first is the baseline")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--row-sample", type=int, default=5000,
                        help="turns the row-by-row loop inserts (all turns when the scale has fewer)")
    parser.add_argument("--growth", type=float, default=0.01, help="the delta run's growth, a fraction of the volume")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where the figures go (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--without-fixed-cost", dest="fixed_cost", action="store_false",
                        help=f"skip the scale-{FIXED_COST_SCALE:g} run that measures a run's fixed cost (about a "
                             "minute) and the bounds it sets")


def command(args: argparse.Namespace) -> int:
    database.start_if_needed()
    warm_up_dbt()
    settings = {"seed": args.seed, "row_sample": args.row_sample, "growth": args.growth}
    fixed = None
    if args.fixed_cost:
        tiny = measure(BenchmarkOptions(FIXED_COST_SCALE, args.seed, args.row_sample, args.growth))
        print(format_scale(tiny), end="\n\n", flush=True)
        fixed = FixedCost.of(tiny)
        print(f"fixed cost (scale {fixed.scale:g}, {fixed.turns:,} turns): full run without vector indexes "
              f"{fixed.full_seconds:.1f}s, re-build with nothing to write {fixed.rebuild_seconds:.1f}s, delta run "
              f"{fixed.delta_seconds:.1f}s",
              end="\n\n", flush=True)
    results = []
    for scale in (float(value) for value in args.scales.split(",")):
        options = BenchmarkOptions(scale, args.seed, args.row_sample, args.growth, args.keep)
        results.append(measure(options))
        print(format_scale(results[-1], fixed), end="\n\n", flush=True)
    print(format_summary(results, fixed))
    print(f"figures written to {write_json(args.json, results, settings, fixed)}")
    return 0
