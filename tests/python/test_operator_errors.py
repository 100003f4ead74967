"""What the operator meets when something is wrong, one test per case, through the command line: a non-zero exit
and one line on stderr, a sentence naming the thing (server, user, database, schema, column, data test and client)
and the next step; never a Python traceback. The cases and what to do are the README's table in the cutover runbook.

Every case is in process (`cli.main`) except the first, which runs the installed `cogito-migrate` as a fresh
process, as an operator would with the wrong PG* variables.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from backstage_simulator import simulate
from ports import free_port
from cogito_migrate import cli, database, discovery

PG_VARIABLES = ("PGHOST", "PGPORT", "PGHOSTADDR", "PGSERVICE", "PGUSER", "PGPASSWORD", "PGDATABASE")


def the_sentence(err: str, out: str = "") -> str:
    """stderr's one line (the sentence the operator reads), after checking no traceback reached either stream."""
    assert "Traceback" not in err + out, err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- 1. no server ---------------------------------------------------------------------------------------------------
def test_no_server_names_its_address_and_how_to_start_it(monkeypatch, capsys):
    port = free_port()  # nothing listens there once the probe is closed
    pointed = {**{k: v for k, v in os.environ.items() if k not in PG_VARIABLES},
               "PGHOST": "127.0.0.1", "PGPORT": str(port)}
    run = subprocess.run([str(Path(sys.executable).with_name("cogito-migrate")), "run"], env=pointed,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    sentence = the_sentence(run.stderr, run.stdout)
    assert f"cannot reach PostgreSQL at 127.0.0.1:{port} (Connection refused)" in sentence
    assert "fix PGHOST/PGPORT" in sentence and "`cogito-migrate db start`" in sentence
    assert "audit: run not recorded in events.migration_runs: no database to record it in" in run.stdout
    # the other commands that need the server say the same, and exit 2 (cli.main's DatabaseError)
    for key, value in pointed.items():
        monkeypatch.setenv(key, value)
    for argv in (["discover", "--check"], ["verify"]):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2 and f"cannot reach PostgreSQL at 127.0.0.1:{port}" in the_sentence(err, out), argv


# -- 2. wrong password ----------------------------------------------------------------------------------------------
PASSWORD_ROLE = "cogito_errors_password_role"


@pytest.fixture
def password_role(server) -> Iterator[str]:
    """A role that must log in with a password: the embedded server trusts 127.0.0.1, so a pg_hba.conf line for
    this role alone (scram-sha-256) goes first, and the file and the role are restored afterwards."""
    if database.uses_external_server():
        pytest.skip("needs the embedded server: its pg_hba.conf is edited")
    with database.connect("postgres") as conn:
        hba = Path(conn.execute("show hba_file").fetchone()[0])
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(PASSWORD_ROLE)))
        conn.execute(sql.SQL("create role {} login password 'the-right-one'").format(sql.Identifier(PASSWORD_ROLE)))
        original = hba.read_text()
        try:
            hba.write_text(f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n{original}")
            conn.execute("select pg_reload_conf()")
            wait_until_password_is_required(server)
            yield PASSWORD_ROLE
        finally:
            hba.write_text(original)
            conn.execute("select pg_reload_conf()")
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(PASSWORD_ROLE)))


def wait_until_password_is_required(server: database.ServerAddress, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            psycopg.connect(host=server.host, port=server.port, user=PASSWORD_ROLE, password="wrong",
                            dbname="postgres").close()
        except psycopg.OperationalError:
            return
        time.sleep(0.1)
    raise AssertionError("the server did not reload pg_hba.conf")


def test_a_wrong_password_names_the_user_and_the_variables_to_fix(password_role, server, monkeypatch, capsys):
    for key in PG_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    for key, value in {"PGHOST": server.host, "PGPORT": str(server.port), "PGUSER": password_role,
                       "PGPASSWORD": "not-the-password"}.items():
        monkeypatch.setenv(key, value)
    code, out, err = run_cli(capsys, "run", "--database", "postgres")
    assert code == 1
    sentence = the_sentence(err, out)
    assert (f"PostgreSQL at {server.host}:{server.port} refused user '{password_role}' "
            f'(password authentication failed for user "{password_role}")') in sentence
    assert "set PGUSER and PGPASSWORD (or ~/.pgpass)" in sentence
    assert "not-the-password" not in out + err


# -- 3. database missing --------------------------------------------------------------------------------------------
def test_a_missing_database_is_named_with_what_to_do(server, capsys):
    code, out, err = run_cli(capsys, "run", "--database", "cogito_errors_no_such_database")
    assert code == 1
    sentence = the_sentence(err, out)
    assert (f"database 'cogito_errors_no_such_database' does not exist on PostgreSQL at "
            f"{server.host}:{server.port}") in sentence
    assert "restore the Backstage dump into it" in sentence and "--database" in sentence


# -- 4. unmapped schema ---------------------------------------------------------------------------------------------
def test_an_unmapped_schema_is_named_with_the_file_to_edit(make_database, tmp_path, capsys):
    """(test_bad_input.py runs the same case through the whole project with hostile schema names, slowly.)"""
    name = make_database("errors_unmapped")
    with database.connect(name) as conn:
        conn.execute("create schema new_tenant")
        conn.execute("create table new_tenant.topic_paths (id bigserial primary key, path ltree)")
    code, out, err = run_cli(capsys, "run", "--database", name, "--report", str(tmp_path / "run.html"))
    assert code == 1 and "[3] discover: FAILED" in out
    sentence = the_sentence(err, out)
    assert "tenant schema(s) 'new_tenant' found in the database but not in the client map" in sentence
    assert f"add a row for each to {discovery.CLIENT_MAP_FILE}" in sentence
    assert "run `cogito-migrate discover` again" in sentence


# -- 5. drifted column ----------------------------------------------------------------------------------------------
def test_a_drifted_column_is_named_with_its_old_and_new_type(make_database, tmp_path, capsys):
    name = make_database("errors_drift")
    simulate(name, scale=0.01, seed=31)
    with database.connect(name) as conn:
        conn.execute("alter table dev.grp_topic_avatar_turns alter column turn_index type text")
        conn.execute("alter table bsa.grp_cons drop column description")
    code, out, err = run_cli(capsys, "run", "--database", name, "--report", str(tmp_path / "run.html"))
    assert code == 1 and "[3] discover: FAILED" in out and "[4] passwords" not in out
    sentence = the_sentence(err, out)
    assert "the generated dbt sources no longer match the database (" in sentence
    assert "bsa.grp_cons.description: text -> missing" in sentence
    assert "dev.grp_topic_avatar_turns.turn_index: numeric -> text" in sentence
    assert "run `cogito-migrate discover`, review and commit the files it writes" in sentence


# -- 6. a failing data test, named with its client ------------------------------------------------------------------
@pytest.mark.slow
def test_a_failing_data_test_is_named_with_its_client(migrated_template, copy_database, tmp_path, capsys):
    """A tenant whose groups lost their NOT NULL holds a nameless group: staging's not-null test fails, and the run
    names the test, the client and the test's query (which shows the row)."""
    name = copy_database(migrated_template(0.02, 31).name, "errors_failing_test")
    client = discovery.read_client_map(database.PROJECT_ROOT / discovery.CLIENT_MAP_FILE)["dev"].client_id
    with database.connect(name) as conn:
        conn.execute("alter table dev.groups alter column name drop not null")
        conn.execute("update dev.groups set name = null where id = (select min(id) from dev.groups)")
    code, out, err = run_cli(capsys, "run", "--database", name, "--report", str(tmp_path / "run.html"),
                             "--target-path", str(tmp_path / "target"))
    assert code == 1 and "[5] build: FAILED" in out
    sentence = the_sentence(err, out)
    # the staging view's columns_valid (not_null and key): only its not_null check fails, naming client and column
    test_name = "columns_valid_stg_backstage__groups_client_id__group_id__client_id__source_schema__group_name"
    assert f"data test {test_name} failed for client {client} (1 row) (its query: " in sentence
    assert "run the query to see the rows, correct them at their source and run again (full log: " in sentence
    query = Path(sentence.split("(its query: ", 1)[1].split(")", 1)[0])
    with database.connect(name) as conn:
        assert conn.execute(query.read_text()).fetchall() == [
            ("not_null", str(client), {"client_id": client, "column_name": "group_name", "null_rows": 1})]


# -- 7. a full refresh, refused -------------------------------------------------------------------------------------
def test_a_full_refresh_is_refused_with_what_to_do_instead(capsys):
    code, out, err = run_cli(capsys, "run", "--full-refresh")
    assert code == 2 and out == ""
    sentence = the_sentence(err)
    assert sentence.startswith("run: refusing --full-refresh: it would rebuild the Cogito tables")
    assert "run `cogito-migrate run` without it" in sentence and "drop the schemas the migration writes" in sentence
