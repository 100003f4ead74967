"""`cogito-migrate run`: the whole migration against the database the environment names."""

from __future__ import annotations

import argparse

from scripts import database
from scripts.dbt import run_dbt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", help="database holding Backstage and receiving Cogito (default: PGDATABASE or cogito)")


def command(args: argparse.Namespace) -> int:
    database.start_if_needed()
    for step in (("seed",), ("build",)):
        if run_dbt(*step, database_name=args.database).returncode != 0:
            return 1
    return 0
