"""The application writes and reads while a delta run merges (issue 13, item 3).

A copy of the session's small migrated template grows (`simulate --grow`: new turns, also into existing topics), then
a real `cogito-migrate run` in a process of its own merges the delta while, in this process:
- a writer, as the application role with `app.client_id` set, keeps appending turns to the very blocks the delta
  appends to (numbering each from the block's current last position under a lock of the block's row, the protocol
  the README names), starts blocks of its own and records logins;
- a reader, as the application role, keeps selecting from every target table, timing each statement;
- a sampler reads pg_locks and pg_stat_activity for the run's sessions.
The run must succeed (audit row `success`), every row the application wrote must be there unchanged, positions must
stay 1..n without gap or repeat in every block, and the run must hold no ACCESS EXCLUSIVE lock on a target table.
The readers' longest statement is measured and printed (`pytest -rP`), never held to a wall-clock limit.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from backstage_changes import migrated_tenants
from backstage_simulator import grow
from cli_runs import start_run
from cogito_migrate import database, waits
from target_sql import APP_ROLE

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 31  # the template test_waits, test_run_lock and the property test share
GROWTH = 0.2  # enough new turns in existing topics that the block_turns merge writes into many blocks
TARGET_SCHEMAS = ("client_mgmt", "conversation", "events", "files")
# every connection this test makes carries it (the reader's with READER after it): the database's other sessions are
# the run's
TEST_SESSION = "live-application-test"
READER = " reader"
PAUSE = 0.005  # between two of the application's statements or transactions: it keeps writing, not spinning


@dataclass
class Written:
    """What the application wrote and committed, as the row reads back (`t::text`), per table and key."""

    turns: dict[uuid.UUID, str] = field(default_factory=dict)
    blocks: dict[uuid.UUID, str] = field(default_factory=dict)
    block_turns: dict[uuid.UUID, str] = field(default_factory=dict)  # by turn_id
    logins: dict[uuid.UUID, datetime] = field(default_factory=dict)  # user -> the last login written
    commits: list[float] = field(default_factory=list)  # monotonic times
    longest_transaction: float = 0.0
    errors: list[str] = field(default_factory=list)


@dataclass
class Observed:
    """What the sampler saw of the run's sessions."""

    access_exclusive: set[tuple[str, str]] = field(default_factory=set)  # (relation, query) of the run's sessions
    block_turns_merging: list[tuple[float, float]] = field(default_factory=list)  # windows the run wrote block_turns
    reader_lock_waits: set[str] = field(default_factory=set)  # what the reader was seen waiting for, if ever
    samples: int = 0


@dataclass
class Reads:
    longest: float = 0.0
    longest_table: str = ""
    statements: int = 0
    durations: list[float] = field(default_factory=list)
    tables: int = 0
    errors: list[str] = field(default_factory=list)


def connect(name: str, autocommit: bool = True, role: str = "") -> psycopg.Connection:
    return database.connect(name, autocommit=autocommit, application_name=TEST_SESSION + role)


def blocks_the_delta_appends_to(name: str, manifest: dict) -> list[tuple[int, uuid.UUID]]:
    """(client, block) of every existing topic or conversation grow gave new turns, as the migration names them."""
    with connect(name) as conn:
        tenants = {tenant.schema: tenant for tenant in migrated_tenants(conn)}
    return [(tenants[schema].client_id, tenants[schema].container_block(unit))
            for schema, units in sorted(manifest["units"].items()) if schema in tenants
            for unit in units["continued"]]


def append_turn(conn: psycopg.Connection, client: int, block: uuid.UUID, speaker: uuid.UUID, content: str) -> uuid.UUID:
    """The application's append, inside its open transaction: the block's row locked, the turn written, then placed
    after the block's last position."""
    conn.execute("select from conversation.blocks where block_id = %s for no key update", (block,))
    turn = uuid.uuid4()
    conn.execute(
        "insert into conversation.turns (turn_id, client_id, participant_id, content, source_type, source_turn_id,"
        " timestamp, metadata) values (%s, %s, %s, %s, 'human_input', 'cogito', now(), '{}')",
        (turn, client, speaker, content))
    time.sleep(PAUSE)  # the application thinks between its statements; the run goes on meanwhile
    conn.execute(
        "insert into conversation.block_turns (block_id, turn_id, client_id, sequence_order)"
        " select %s, %s, %s, coalesce(max(sequence_order), 0) + 1 from conversation.block_turns where block_id = %s",
        (block, turn, client, block))
    return turn


def application_writes(name: str, blocks: list[tuple[int, uuid.UUID]], stop: threading.Event,
                       written: Written) -> None:
    """The application until `stop`: per transaction, scoped to the block's client, it locks the block's row, appends
    a turn after the block's last position, every third time starts a block of its own, and records a login."""
    try:
        with connect(name, autocommit=False) as conn:
            conn.execute(f"set role {APP_ROLE}")
            speakers: dict[int, uuid.UUID] = {}
            users: dict[int, uuid.UUID] = {}
            for client in {client for client, _ in blocks}:
                conn.execute("select set_config('app.client_id', %s, false)", (str(client),))
                speakers[client] = conn.execute(
                    "select id from conversation.participants where type = 'human' order by id limit 1").fetchone()[0]
                users[client] = conn.execute("select id from client_mgmt.users order by id limit 1").fetchone()[0]
            conn.commit()
            n = 0
            while not stop.is_set():
                client, block = blocks[n % len(blocks)]
                started = time.monotonic()
                conn.execute("select set_config('app.client_id', %s, true)", (str(client),))
                turn = append_turn(conn, client, block, speakers[client], f"written in Cogito during a run, {n}")
                own_block = own_turn = None
                if n % 3 == 0:
                    own_block, own_turn = uuid.uuid4(), uuid.uuid4()
                    conn.execute(
                        "insert into conversation.blocks (block_id, client_id, parent_block_id, name, block_type,"
                        " created_by, created_at, metadata) values (%s, %s, %s, 'started in Cogito', 'conversation',"
                        " %s, now(), '{}')", (own_block, client, block, speakers[client]))
                    conn.execute(
                        "insert into conversation.turns (turn_id, client_id, participant_id, content, source_type,"
                        " source_turn_id, timestamp, metadata) values (%s, %s, %s, 'first turn of a Cogito block',"
                        " 'human_input', 'cogito', now(), '{}')", (own_turn, client, speakers[client]))
                    conn.execute(
                        "insert into conversation.block_turns (block_id, turn_id, client_id, sequence_order)"
                        " values (%s, %s, %s, 1)", (own_block, own_turn, client))
                login = conn.execute("update client_mgmt.users set last_login = clock_timestamp() where id = %s"
                                     " returning last_login", (users[client],)).fetchone()[0]
                rows = {
                    "turns": [(key, conn.execute("select t::text from conversation.turns t where turn_id = %s",
                                                 (key,)).fetchone()[0]) for key in (turn, own_turn) if key],
                    "blocks": [(own_block, conn.execute("select t::text from conversation.blocks t"
                                                        " where block_id = %s", (own_block,)).fetchone()[0])]
                    if own_block else [],
                    "block_turns": [(key, conn.execute("select t::text from conversation.block_turns t"
                                                       " where turn_id = %s", (key,)).fetchone()[0])
                                    for key in (turn, own_turn) if key],
                }
                conn.commit()
                written.commits.append(time.monotonic())
                written.longest_transaction = max(written.longest_transaction, time.monotonic() - started)
                for table, pairs in rows.items():
                    getattr(written, table).update(pairs)
                written.logins[users[client]] = login
                n += 1
                time.sleep(PAUSE)
    except psycopg.Error as error:
        written.errors.append(f"{type(error).__name__}: {error}")


def application_reads(name: str, stop: threading.Event, reads: Reads) -> None:
    """The application's readers until `stop`: one short select per target table it may read, round after round, each
    timed (a select waits only for a lock that conflicts with ACCESS SHARE: an ACCESS EXCLUSIVE one)."""
    try:
        with connect(name, role=READER) as conn:
            tables = [table for (table,) in conn.execute(
                "select format('%%I.%%I', schemaname, tablename) from pg_tables where schemaname = any(%s)"
                " and has_table_privilege(%s, format('%%I.%%I', schemaname, tablename), 'select') order by 1",
                (list(TARGET_SCHEMAS), APP_ROLE))]
            reads.tables = len(tables)
            client = conn.execute("select min(id) from client_mgmt.clients").fetchone()[0]
            conn.execute(f"set role {APP_ROLE}")
            conn.execute("select set_config('app.client_id', %s, false)", (str(client),))
            while not stop.is_set():
                for table in tables:
                    started = time.monotonic()
                    conn.execute(f"select from {table} limit 1").fetchall()
                    took = time.monotonic() - started
                    reads.statements += 1
                    reads.durations.append(took)
                    if took > reads.longest:
                        reads.longest, reads.longest_table = took, table
                time.sleep(PAUSE)
    except psycopg.Error as error:
        reads.errors.append(f"{type(error).__name__}: {error}")


def sample_the_run(name: str, stop: threading.Event, observed: Observed) -> None:
    """Until `stop`: the ACCESS EXCLUSIVE locks the run's sessions hold on target-schema relations, the windows in
    which one of them was writing conversation.block_turns, and any lock the application's reader waits for."""
    with connect(name) as conn:
        merging_since = None
        while not stop.is_set():
            held = conn.execute(
                """
                select format('%%I.%%I', n.nspname, c.relname), coalesce(a.query, '')
                from pg_locks l
                join pg_class c on c.oid = l.relation
                join pg_namespace n on n.oid = c.relnamespace
                join pg_stat_activity a on a.pid = l.pid
                where l.mode = 'AccessExclusiveLock' and l.granted and n.nspname = any(%s)
                  and a.datname = current_database() and a.application_name not like %s
                """, (list(TARGET_SCHEMAS), TEST_SESSION + "%")).fetchall()
            observed.access_exclusive.update((relation, query[:200]) for relation, query in held)
            merging = conn.execute(
                "select exists (select from pg_stat_activity where datname = current_database()"
                " and application_name not like %s and state <> 'idle' and query ilike '%%\"block_turns\"%%')",
                (TEST_SESSION + "%",)).fetchone()[0]
            observed.reader_lock_waits.update(f"{wait} ({query[:120]})" for wait, query in conn.execute(
                "select wait_event, query from pg_stat_activity where datname = current_database()"
                " and application_name = %s and wait_event_type = 'Lock'", (TEST_SESSION + READER,)))
            now = time.monotonic()
            if merging and merging_since is None:
                merging_since = now
            elif not merging and merging_since is not None:
                observed.block_turns_merging.append((merging_since, now))
                merging_since = None
            observed.samples += 1
            time.sleep(0.002)
        if merging_since is not None:
            observed.block_turns_merging.append((merging_since, time.monotonic()))


@dataclass
class LiveRun:
    returncode: int
    log: str
    written: Written
    reads: Reads
    observed: Observed
    outcome: str


def run_while_the_application_works(name: str, target: Path) -> LiveRun:
    """A delta `cogito-migrate run` with the application's writer and reader and the sampler alongside."""
    manifest = grow(name, seed=SEED, amount=GROWTH)
    blocks = blocks_the_delta_appends_to(name, manifest)
    assert len(blocks) >= 5, manifest["units"]
    written, reads, observed, stop = Written(), Reads(), Observed(), threading.Event()
    workers: list[tuple[Callable, tuple]] = [(sample_the_run, (name, stop, observed)),
                                             (application_writes, (name, blocks, stop, written)),
                                             (application_reads, (name, stop, reads))]
    threads = [threading.Thread(target=target, args=args, daemon=True) for target, args in workers]
    for thread in threads:
        thread.start()
    process = start_run(name, target, target / "live.log")
    try:
        returncode = process.wait(timeout=600)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    with connect(name) as conn:
        outcome = conn.execute(
            "select outcome from events.migration_runs order by started_at desc limit 1").fetchone()[0]
    return LiveRun(returncode, (target / "live.log").read_text(), written, reads, observed, outcome)


@pytest.fixture(scope="module")
def copy(migrated_template, copy_database) -> str:
    return copy_database(migrated_template(SCALE, SEED).name, "live_app")


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Path:
    """The dbt target folder of every run on `copy`."""
    return tmp_path_factory.mktemp("live_app_target")


@pytest.fixture(scope="module")
def live(copy, target) -> LiveRun:
    """One delta run with the application writing and reading alongside: the two tests below read its outcome."""
    return run_while_the_application_works(copy, target)


def test_the_application_s_writes_during_a_delta_run_survive_and_positions_stay_gap_free(copy, live):
    written = live.written
    assert live.returncode == 0 and live.outcome == "success", live.log[-4000:]
    assert not written.errors, written.errors
    # the application wrote while the run merged block_turns: the case under test happened
    during = [t for t in written.commits for start, end in live.observed.block_turns_merging if start <= t <= end]
    print(f"the application committed {len(written.commits)} transactions during the run, {len(during)} while the "
          f"run wrote block_turns ({len(live.observed.block_turns_merging)} windows); its longest transaction took "
          f"{written.longest_transaction * 1000:.0f} ms")
    assert live.observed.block_turns_merging, "the sampler never saw the run write block_turns"
    with connect(copy) as conn:
        for table, key, rows in (("conversation.turns", "turn_id", written.turns),
                                 ("conversation.blocks", "block_id", written.blocks),
                                 ("conversation.block_turns", "turn_id", written.block_turns)):
            now = dict(conn.execute(f"select {key}, t::text from {table} t where {key} = any(%s)", (list(rows),)))
            assert now == rows, f"{table}: the application's rows changed or went missing"
        for user, login in written.logins.items():
            (now_login,) = conn.execute("select last_login from client_mgmt.users where id = %s", (user,)).fetchone()
            assert now_login == login
        broken = conn.execute(
            """
            select block_id, count(*), count(distinct sequence_order), min(sequence_order), max(sequence_order)
            from conversation.block_turns group by block_id
            having count(*) <> count(distinct sequence_order) or min(sequence_order) <> 1
                or max(sequence_order) <> count(*)
            """).fetchall()
        assert not broken, f"blocks whose positions are not 1..n: {broken[:5]}"
        # the delta's own turns landed too: every turn grow added is in a block
        missing = conn.execute(
            "select count(*) from migration.migration_id_map m where m.entity = 'turn'"
            " and not exists (select from conversation.block_turns bt where bt.turn_id = m.cogito_id)").fetchone()[0]
        assert missing == 0


def test_the_application_s_readers_wait_on_no_access_exclusive_lock_during_a_delta_run(live):
    assert live.returncode == 0 and live.outcome == "success", live.log[-4000:]
    assert not live.reads.errors and not live.written.errors, (live.reads.errors, live.written.errors)
    durations = sorted(live.reads.durations)
    median, p99 = durations[len(durations) // 2], durations[len(durations) * 99 // 100]
    print(f"the application's readers ran {live.reads.statements} selects during the delta run; median "
          f"{median * 1000:.1f} ms, 99th percentile {p99 * 1000:.1f} ms, the longest {live.reads.longest * 1000:.1f} ms"
          f" (on {live.reads.longest_table}); the sampler read pg_locks {live.observed.samples} times and saw the "
          f"reader wait for a lock {len(live.observed.reader_lock_waits)} times; the writer's longest transaction took "
          f"{live.written.longest_transaction * 1000:.0f} ms")
    assert live.reads.tables >= 12 and live.observed.samples > 0
    assert not live.observed.access_exclusive, sorted(live.observed.access_exclusive)
    assert not live.observed.reader_lock_waits, sorted(live.observed.reader_lock_waits)


def test_an_append_left_open_stops_the_run_after_the_bound_naming_the_session_then_the_next_run_lands(
        copy, live, target, monkeypatch):
    """The application appended to a block the delta writes and keeps its transaction open: the block_turns merge
    waits for the block's row, gives up after lock_timeout naming the session, and writes nothing; once the
    application commits, the next run appends the delta's turns after the application's."""
    monkeypatch.setenv(waits.LOCK_TIMEOUT_VARIABLE, "3s")
    manifest = grow(copy, seed=SEED, amount=GROWTH)
    client, block = blocks_the_delta_appends_to(copy, manifest)[0]
    with connect(copy, autocommit=False) as application:
        application.execute(f"set role {APP_ROLE}")
        application.execute("select set_config('app.client_id', %s, true)", (str(client),))
        speaker = application.execute(
            "select id from conversation.participants where type = 'human' order by id limit 1").fetchone()[0]
        turn = append_turn(application, client, block, speaker, "written in Cogito, not yet committed")
        application_pid = application.info.backend_pid
        process = start_run(copy, target, target / "held.log")
        returncode = process.wait(timeout=600)
        application.commit()
    log = (target / "held.log").read_text()
    assert returncode != 0, log[-4000:]
    assert "block_turns waited longer than lock_timeout (3s)" in log, log[-4000:]
    assert f"held by pid {application_pid} " in log, log[-4000:]
    with connect(copy) as conn:
        position = conn.execute("select sequence_order from conversation.block_turns where turn_id = %s",
                                (turn,)).fetchone()[0]
    process = start_run(copy, target, target / "next.log")
    assert process.wait(timeout=600) == 0, (target / "next.log").read_text()[-4000:]
    with connect(copy) as conn:
        order = [row for row in conn.execute(
            "select turn_id, sequence_order from conversation.block_turns where block_id = %s order by 2", (block,))]
    assert (turn, position) in order
    assert [sequence for _, sequence in order] == list(range(1, len(order) + 1))
    # the delta's turns of that block came after the application's
    assert len(order) > position and all(str(t)[14] == "3" for t, _ in order[position:])
