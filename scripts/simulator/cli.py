"""The `simulate` subcommand: build the database, print the manifest as JSON on stdout."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from scripts import database
from scripts.simulator.build import simulate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", type=float, default=1.0, help="1 is about 20,000 turns; fractions work (0.05)")
    parser.add_argument("--seed", type=int, default=42, help="same seed, byte-identical data")
    parser.add_argument("--database", default=os.environ.get("PGDATABASE", database.DEFAULT_DATABASE),
                        help="database to (re)create (default: PGDATABASE or cogito)")


def command(args: argparse.Namespace) -> int:
    database.start_if_needed()
    started = time.monotonic()
    manifest = simulate(args.database, scale=args.scale, seed=args.seed)
    json.dump(manifest, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    print(f"simulated {args.database} (scale {args.scale}, seed {args.seed}) in {time.monotonic() - started:.1f}s",
          file=sys.stderr)
    return 0
