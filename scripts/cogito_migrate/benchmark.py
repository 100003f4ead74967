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

from cogito_migrate import database, reports

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


def format_measurements(rows: list[Measurement]) -> str:
    base = rows[0]
    header = ["scale", "turns", "MB", "simulate s", "x base", "migrate s", "x base", "re-run s", "re-run/run",
              "data x base"]
    cells = [
        [f"{row.scale}", f"{row.turns:,}", f"{row.size_mb:.0f}", f"{row.simulate_seconds:.1f}",
         f"{row.simulate_seconds / base.simulate_seconds:.2f}", f"{row.migrate_seconds:.1f}",
         f"{row.migrate_seconds / base.migrate_seconds:.2f}", f"{row.rerun_seconds:.1f}",
         f"{row.rerun_seconds / row.migrate_seconds:.2f}", f"{row.turns / base.turns:.2f}"]
        for row in rows
    ]
    return reports.format_table(header, cells, left_columns=0)


def command(args: argparse.Namespace) -> int:
    database.start_if_needed()
    scales = [float(value) for value in args.scales.split(",")]
    rows = []
    for scale in scales:
        rows.append(measure(scale, args.seed, args.keep))
        print(f"measured scale {scale}", file=sys.stderr, flush=True)
    print(format_measurements(rows))
    return 0
