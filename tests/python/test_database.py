"""The embedded server starts, restarts and stops; dbt reaches it through the project's profile."""

from __future__ import annotations


import pytest
from ports import free_port

from cogito_migrate import database
from cogito_migrate.cli import main


def test_server_starts_restarts_and_stops(tmp_path, monkeypatch, capsys):
    """A server of the test's own (the shared one serves the other tests, in parallel), found by `db` through
    COGITO_PGDATA and COGITO_PGPORT as an operator's would be."""
    monkeypatch.setenv("COGITO_PGDATA", str(tmp_path / "pgdata"))
    monkeypatch.setenv("COGITO_PGPORT", str(free_port()))
    for variable in (*database.EXTERNAL_SERVER_VARIABLES, "PGUSER", "PGDATABASE", "PGPASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    embedded = database.EmbeddedServer()
    assert not embedded.is_running()
    assert embedded.start().startswith("started")
    try:
        assert "already running" in embedded.start()
        assert main(["db", "status"]) == 0
        assert f"running on port {embedded.port}" in capsys.readouterr().out
        assert embedded.stop() == "stopped"
        assert not embedded.is_running()
        assert embedded.stop() == "not running"
        assert embedded.start().startswith("started")
        with database.connect() as conn:
            assert conn.execute("select extversion from pg_extension where extname = 'vector'").fetchone()
    finally:
        embedded.stop()


def test_db_url_names_the_server(server, capsys):
    assert main(["db", "url"]) == 0
    assert capsys.readouterr().out.startswith("postgresql://")


def test_unusable_data_folder_gives_a_clear_message(tmp_path):
    folder = tmp_path / "not-a-cluster"
    folder.mkdir()
    (folder / "stray.txt").write_text("x")
    with pytest.raises(database.DatabaseError, match="not a PostgreSQL data folder"):
        database.EmbeddedServer(data_dir=folder, port=55499).initialise()


@pytest.mark.skipif(database.uses_external_server(), reason="the PG* variables name another server")
def test_taken_port_gives_a_clear_message(server, tmp_path):
    other = database.EmbeddedServer(data_dir=tmp_path / "second", port=database.EmbeddedServer().port)
    with pytest.raises(database.DatabaseError, match="port .* is taken"):
        other.start()


def test_dbt_debug_passes(make_database, dbt):
    name = make_database("debug")
    result = dbt("debug", database_name=name)
    assert "All checks passed" in result.stdout


def test_dbt_parse_passes(make_database, dbt):
    dbt("parse", database_name=make_database("parse"))
