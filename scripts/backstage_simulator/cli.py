"""The `simulate` subcommand: build the database (or grow it with --grow), print the manifest as JSON on stdout."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from cogito_migrate import database, discovery

from backstage_simulator.build import simulate
from backstage_simulator.extra_tenants import write_client_map
from backstage_simulator.grow import DEFAULT_AMOUNT, grow


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", type=float, default=1.0, help="1 is about 20,000 turns; fractions work (0.05)")
    parser.add_argument("--seed", type=int, default=42, help="same seed, byte-identical data")
    parser.add_argument("--database", default=os.environ.get("PGDATABASE", database.DEFAULT_DATABASE),
                        help="database to (re)create or grow (default: PGDATABASE or cogito)")
    parser.add_argument("--grow", action="store_true",
                        help="add new rows to an existing simulated database instead of rebuilding it "
                             "(the manifest lists what was added)")
    parser.add_argument("--amount", type=float, default=DEFAULT_AMOUNT,
                        help=f"with --grow: new rows as a fraction of the existing volume (default {DEFAULT_AMOUNT})")
    parser.add_argument("--extra-tenants", type=int, default=0, metavar="N",
                        help="also N small tenant schemas (tenant_0001, ...; client ids 1001, ...), cloned from the "
                             "simulated ones: to try many clients")
    parser.add_argument("--client-map", type=Path, metavar="PATH",
                        help="write the client map for this database to PATH: the committed "
                             f"{discovery.CLIENT_MAP_FILE} rows plus one per extra tenant (point it at a project "
                             "copy's seed; the committed seed is only read)")


def command(args: argparse.Namespace) -> int:
    database.start_if_needed()
    started = time.monotonic()
    if args.grow:
        manifest = grow(args.database, seed=args.seed, amount=args.amount)
        done = f"grew {args.database} by generation {manifest['generation']} ({manifest['rows_added']} rows)"
    else:
        manifest = simulate(args.database, scale=args.scale, seed=args.seed, extra_tenants=args.extra_tenants)
        if args.client_map:
            write_client_map(args.client_map, database.PROJECT_ROOT / discovery.CLIENT_MAP_FILE, args.extra_tenants)
        done = f"simulated {args.database} (scale {args.scale}, seed {args.seed})"
    json.dump(manifest, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    print(f"{done} in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 0
