"""`cogito-migrate`: the operator's command line. Each subcommand lives in the module that does the job."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from scripts import database

# subcommand -> (module, help). Each module offers add_arguments(parser) and command(args) -> int.
SUBCOMMANDS = {
    "simulate": ("scripts.simulator", "build a simulated Backstage database and print its JSON manifest"),
    "discover": ("scripts.discovery", "inventory the Backstage tenant schemas and write the dbt sources"),
    "run": ("scripts.runner", "run the whole migration and print per-client counts"),
    "verify": ("scripts.verify", "reconcile source and target per client and entity; non-zero exit on a mismatch"),
    "benchmark": ("scripts.benchmark", "time simulation and migration at growing scales, as ratios to a baseline"),
}


def _db_command(args: argparse.Namespace) -> int:
    if args.action == "url":
        print(database.server_address().url())
        return 0
    if database.uses_external_server():
        print(f"using the server the PG* variables name: {database.server_address().url()}; nothing to {args.action}")
        return 0
    server = database.EmbeddedServer()
    print({"start": server.start, "stop": server.stop, "status": server.status}[args.action]())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cogito-migrate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="start, stop or locate the embedded PostgreSQL")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(handler=_db_command)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.command)
    return parser


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", module="platformdirs")
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except database.DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
