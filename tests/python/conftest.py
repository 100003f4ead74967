"""Shared fixtures: a real PostgreSQL server, throw-away databases, and dbt runs against them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from cogito_migrate import database
from cogito_migrate.dbt import DbtResult, run_dbt


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
