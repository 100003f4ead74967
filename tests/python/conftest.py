"""Shared fixtures: a real PostgreSQL server, throw-away databases, and dbt runs against them."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from cogito_migrate import database, runner
from cogito_migrate.dbt import DbtResult, run_dbt

CHROMIUM = Path(os.environ.get("COGITO_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def server() -> database.ServerAddress:
    """The embedded server (or the one PG* names), started once for the whole run."""
    return database.start_if_needed()


@pytest.fixture(scope="session")
def make_database(server) -> Iterator[Callable[[str], str]]:
    """A factory for uniquely named, empty databases (with vector and ltree), dropped at the end."""
    created: list[str] = []

    def make(prefix: str) -> str:
        name = f"test_{prefix}_{uuid.uuid4().hex[:8]}"
        database.ensure_database(name)
        created.append(name)
        return name

    yield make
    with database.connect("postgres") as conn:
        for name in created:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def copy_database(make_database) -> Callable[[str, str], str]:
    """A new database (dropped at the end) holding a copy of another one, which nobody may be connected to
    (PostgreSQL copies it as a template: its files, row versions included), and its comment (the simulator's mark)."""

    def copy(source: str, prefix: str) -> str:
        name = make_database(prefix)
        with database.connect("postgres") as conn:
            conn.execute(sql.SQL("drop database {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(source)))
            (comment,) = conn.execute("select shobj_description(oid, 'pg_database') from pg_database where datname = %s",
                                      (source,)).fetchone()
            conn.execute(sql.SQL("comment on database {} is {}").format(sql.Identifier(name), sql.Literal(comment)))
        return name

    return copy


@pytest.fixture
def connect(server) -> Callable[[str], psycopg.Connection]:
    return lambda name: database.connect(name)


@pytest.fixture(scope="session")
def dbt_target(tmp_path_factory) -> Callable[[str], Path]:
    """The dbt target folder of a database: one per database, so databases never share dbt state, while
    consecutive runs on one database reuse dbt's partial parse (the parse is per database anyway: its name is in
    the profile, and a changed profile makes dbt parse again)."""
    targets: dict[str, Path] = {}

    def target(database_name: str) -> Path:
        if database_name not in targets:
            targets[database_name] = Path(tmp_path_factory.mktemp(f"dbt_target_{database_name}"))
        return targets[database_name]

    return target


@pytest.fixture(scope="session")
def dbt(server, dbt_target) -> Callable[..., DbtResult]:
    """Run dbt (in this process) against a named database, in that database's target folder."""

    def run(*args: str, database_name: str, check: bool = True) -> DbtResult:
        result = run_dbt(*args, database_name=database_name, target_path=dbt_target(database_name), capture=True)
        if check and not result.ok:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}")
        return result

    return run


@pytest.fixture(scope="session")
def migrate(dbt) -> Callable[[str], None]:
    """The migration's own steps on a database that already holds Backstage: seed, password step, dbt build."""
    from cogito_migrate import passwords

    def run(name: str) -> None:
        dbt("seed", database_name=name)
        passwords.carry_passwords(name)
        dbt("build", database_name=name)

    return run


@dataclass(frozen=True)
class Template:
    """A simulated Backstage migrated once by `cogito-migrate run`'s steps (audit row included), kept for the
    session: tests that only read it share it, tests that change it take a copy (copy_database)."""

    name: str
    manifest: dict[str, Any]
    target: Path  # its dbt target folder (dbt_target's), so a later dbt command on it reuses the parse
    result: runner.RunResult  # the run that migrated it, its audit row id and what it printed
    run_id: str | None
    output: str


@pytest.fixture(scope="session")
def migrated_template(make_database, dbt_target) -> Callable[[float, int], Template]:
    """The migrated database of a scale and seed, built on first use (one build per scale and seed per session)."""
    from backstage_simulator import simulate

    built: dict[tuple[float, int], Template] = {}

    def get(scale: float, seed: int) -> Template:
        if (scale, seed) not in built:
            name = make_database(f"template_{seed}")
            manifest = simulate(name, scale=scale, seed=seed)
            out = io.StringIO()
            options = runner.RunOptions(database_name=name, target_path=dbt_target(name), output=out)
            result, run_id = runner.run_and_record(options)
            assert result.ok, f"run failed at {result.failed_step}:\n{out.getvalue()[-4000:]}"
            built[(scale, seed)] = Template(name, manifest, options.target_path, result, run_id, out.getvalue())
        return built[(scale, seed)]

    return get


@dataclass(frozen=True)
class Migrated:
    """A simulated Backstage database after one migration, with the simulator's manifest as ground truth."""

    name: str
    manifest: dict[str, Any]


@pytest.fixture(scope="session")
def simulate_and_migrate(make_database, migrate) -> Callable[[str, float, int], Migrated]:
    """A fresh database, simulated at a scale and seed, then migrated."""
    from backstage_simulator import simulate

    def run(prefix: str, scale: float, seed: int) -> Migrated:
        name = make_database(prefix)
        manifest = simulate(name, scale=scale, seed=seed)
        migrate(name)
        return Migrated(name, manifest)

    return run


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright, for the session: Debian's `chromium` (`make test` installs it through
    scripts/ensure-chromium.sh; COGITO_CHROMIUM names another executable). A missing browser fails the tests that
    need it, never skips them."""
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/ensure-chromium.sh (`make test` does; it needs root or "
                    "sudo for apt-get), or set COGITO_CHROMIUM to a Chromium executable", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
        yield launched
        launched.close()
