"""`cogito-migrate benchmark`: how simulation and migration time grow with the data, as ratios to a baseline.

Speed is measured here and printed, never asserted in a test: wall-clock limits fail on a busy machine. Every
figure is compared with the smallest scale of the same run, so the ratios mean something on any machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import backstage_simulator
from psycopg import sql

from cogito_migrate import database

TURN_TABLES = ("grp_topic_avatar_turns", "grp_con_avatar_turns")


@dataclass(frozen=True)
class Measurement:
    scale: float
    turns: int
    size_mb: float
    simulate_seconds: float
    migrate_seconds: float
    rerun_seconds: float


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scales", default="0.25,0.5,1", help="comma-separated scales; the first is the baseline")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")


def _timed_migration(name: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cogito-migrate")), "run", "--database", name],
        capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"the migration of {name} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    return elapsed


def measure(scale: float, seed: int, keep: bool) -> Measurement:
    name = f"benchmark_scale_{str(scale).replace('.', '_')}"
    started = time.perf_counter()
    manifest = backstage_simulator.simulate(name, scale, seed)
    simulate_seconds = time.perf_counter() - started
    try:
        turns = sum(
            rows
            for entry in manifest["schemas"].values()
            for table, rows in entry["tables"].items()
            if table in TURN_TABLES
        )
        with database.connect(name) as conn:
            size = conn.execute("select pg_database_size(current_database())").fetchone()[0]
        migrate_seconds = _timed_migration(name)
        rerun_seconds = _timed_migration(name)
    finally:
        if not keep:
            with database.connect("postgres") as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    return Measurement(scale, turns, size / 2**20, simulate_seconds, migrate_seconds, rerun_seconds)


def format_table(rows: list[Measurement]) -> str:
    base = rows[0]
    header = (f"{'scale':>6} {'turns':>9} {'MB':>7} {'simulate s':>11} {'x base':>7} "
              f"{'migrate s':>10} {'x base':>7} {'re-run s':>9} {'re-run/run':>10} {'data x base':>11}")
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.scale:>6} {row.turns:>9,} {row.size_mb:>7.0f} {row.simulate_seconds:>11.1f} "
            f"{row.simulate_seconds / base.simulate_seconds:>7.2f} {row.migrate_seconds:>10.1f} "
            f"{row.migrate_seconds / base.migrate_seconds:>7.2f} {row.rerun_seconds:>9.1f} "
            f"{row.rerun_seconds / row.migrate_seconds:>10.2f} {row.turns / base.turns:>11.2f}"
        )
    return "\n".join(lines)


def command(args: argparse.Namespace) -> int:
    database.start_if_needed()
    scales = [float(value) for value in args.scales.split(",")]
    rows = []
    for scale in scales:
        rows.append(measure(scale, args.seed, args.keep))
        print(f"measured scale {scale}", file=sys.stderr, flush=True)
    print(format_table(rows))
    return 0
