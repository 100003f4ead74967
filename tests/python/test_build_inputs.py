"""The fingerprint of what a build reads (cogito_migrate.build_inputs), on a small hand-made database: every kind of
write changes the fingerprint of exactly the table written, reading and vacuuming change nothing, and the project's
files are part of it. The runs that skip a build, or do not, are in test_reruns.py."""

from __future__ import annotations

import shutil

import pytest

from cogito_migrate import build_inputs, database

SETUP = """
    create schema dev;
    create table dev.turns (id bigint primary key, content text);
    insert into dev.turns select n, 'turn ' || n from generate_series(1, 50) as n;
    create table dev.people (id bigint primary key, email text);
    insert into dev.people values (1, 'a@example.org'), (2, 'b@example.org');
    create schema events;
    create table events.migration_runs (id int);
"""

WRITES = {
    "insert": ("dev.turns", "insert into dev.turns values (51, 'new')"),
    "update": ("dev.turns", "update dev.turns set content = content where id = 7"),
    "delete": ("dev.people", "delete from dev.people where id = 2"),
    "delete and re-insert the same row": ("dev.people", "delete from dev.people where id = 2; "
                                                        "insert into dev.people values (2, 'b@example.org')"),
    "add a column": ("dev.people", "alter table dev.people add column name text"),
    "add an index": ("dev.turns", "create index on dev.turns (content)"),
    "grant": ("dev.turns", "grant select on dev.turns to public"),
    "row-level security": ("dev.people", "alter table dev.people enable row level security"),
    "new table": ("dev.topics", "create table dev.topics (id int)"),
    "drop table": ("dev.people", "drop table dev.people"),
}


@pytest.fixture
def source(make_database, connect):
    name = make_database("build_inputs")
    with connect(name) as conn:
        conn.execute(SETUP)
    return name


def test_reading_vacuuming_and_the_audit_change_nothing(source, connect):
    with connect(source) as conn:
        before = build_inputs.take(conn)
        conn.execute("select * from dev.turns")
        conn.execute("vacuum dev.turns")
        conn.execute("analyze dev.people")
        conn.execute("insert into events.migration_runs values (1)")
        after = build_inputs.take(conn)
    assert before == after
    assert before.knowable
    assert "events.migration_runs" not in before.tables
    assert {"dev.turns", "dev.people"} <= before.tables.keys()


@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_write_changes_exactly_the_table_written(source, connect, write):
    table, statement = WRITES[write]
    with connect(source) as conn:
        before = build_inputs.take(conn)
        conn.execute(statement)
        after = build_inputs.take(conn)
    assert before.changed_tables(after) == [table]
    assert not build_inputs.VerifiedBuild(before, recorded_at=None).matches(after)


def test_a_foreign_table_can_never_be_taken_as_unchanged(source, connect):
    with connect(source) as conn:
        conn.execute("create extension if not exists postgres_fdw")
        conn.execute("create server elsewhere foreign data wrapper postgres_fdw options (dbname 'postgres')")
        conn.execute("create foreign table dev.remote_turns (id bigint) server elsewhere")
        fingerprint = build_inputs.take(conn)
    assert not fingerprint.knowable
    assert not build_inputs.VerifiedBuild(fingerprint, recorded_at=None).matches(fingerprint)


def test_the_record_keeps_one_fingerprint_and_forget_removes_it(source, connect):
    with connect(source) as conn:
        assert build_inputs.last_verified(conn) is None
        fingerprint = build_inputs.take(conn)
        build_inputs.record(conn, fingerprint)
        build_inputs.record(conn, fingerprint)
        verified = build_inputs.last_verified(conn)
        assert verified is not None and verified.matches(build_inputs.take(conn))  # the record is not an input
        assert conn.execute(f"select count(*) from {build_inputs.RECORD_SCHEMA}.{build_inputs.RECORD_TABLE}"
                            ).fetchone() == (1,)
        build_inputs.forget(conn)
        assert build_inputs.last_verified(conn) is None


def test_the_project_digest_follows_every_file_dbt_reads(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(database.PROJECT_ROOT, project, ignore=shutil.ignore_patterns(
        ".venv", ".pgdata", "target", "logs", ".git", "tests", "scripts", "dbt_packages"))
    (project / "tests").mkdir()
    digest = build_inputs.project_digest(project)
    assert build_inputs.project_digest(project) == digest
    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text() + "\n-- changed\n")
    changed = build_inputs.project_digest(project)
    assert changed != digest
    (project / "tests" / "notes.txt").write_text("not read by dbt")
    assert build_inputs.project_digest(project) == changed
    seed = next((project / "seeds").rglob("*.csv"))
    seed.write_text(seed.read_text() + "\n")
    assert build_inputs.project_digest(project) != changed


def test_a_source_that_moved_during_the_build_is_named_and_the_build_s_own_tables_are_not():
    before = build_inputs.Fingerprint("p", {"dev.turns": "a", "conversation.turns": "x"},
                                      {"dev.turns": ("dev", "turns"), "conversation.turns": ("conversation", "turns")})
    built = build_inputs.Fingerprint("p", {"dev.turns": "a", "conversation.turns": "y"}, before.locations)
    moved = build_inputs.Fingerprint("p", {"dev.turns": "b", "conversation.turns": "y"}, before.locations)
    assert build_inputs.moved_during_build(before, built, {"conversation"}) == []
    assert build_inputs.moved_during_build(before, moved, {"conversation"}) == ["dev.turns"]



def test_the_fingerprint_holds_one_batch_of_table_locks_at_a_time(source, connect, monkeypatch):
    """Hundreds of tenants mean thousands of tables: locking all of them in one transaction overflowed
    PostgreSQL's lock table. Each batch's locks go when its savepoint rolls back; the snapshot stays one."""
    with connect(source) as conn:
        conn.execute("create schema many")
        for n in range(1, 61):
            conn.execute(f"create table many.t{n} (id int primary key)")
        whole = build_inputs.take(conn)
        held: list[int] = []
        read = build_inputs._read_releasing_locks

        def read_and_count(connection, counts):
            found = read(connection, counts)
            held.append(connection.execute(
                "select count(*) from pg_locks where pid = pg_backend_pid() and locktype = 'relation'"
                " and relation not in (select oid from pg_class where relnamespace = 'pg_catalog'::regnamespace)"
            ).fetchone()[0])
            return found

        monkeypatch.setattr(build_inputs, "COUNT_BATCH", 10)
        monkeypatch.setattr(build_inputs, "_read_releasing_locks", read_and_count)
        batched = build_inputs.take(conn)
    assert batched == whole
    assert len(held) >= 6 and max(held) == 0, held
