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

from scripts import database
from scripts.dbt import run_dbt


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
def dbt(server, tmp_path_factory) -> Callable[..., object]:
    """Run dbt against a named database with a private target folder, so runs never share state."""

    def run(*args: str, database_name: str, check: bool = True):
        target = tmp_path_factory.mktemp("dbt_target")
        result = run_dbt(*args, database_name=database_name, target_path=Path(target), capture=True)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
        return result

    return run


@pytest.fixture(scope="session")
def migrate(dbt) -> Callable[[str], None]:
    """The migration's own steps on a database that already holds Backstage: seed, password step, dbt build."""
    from scripts import passwords

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
    from scripts.simulator import simulate

    def run(prefix: str, scale: float, seed: int) -> Migrated:
        name = make_database(prefix)
        manifest = simulate(name, scale=scale, seed=seed)
        migrate(name)
        return Migrated(name, manifest)

    return run
