"""`cogito-migrate`: the operator's command line. Each subcommand lives in the module that does the job."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import warnings

from cogito_migrate import database

SIMULATOR = "backstage_simulator"
# subcommand -> (module, help, needs the simulator). Each module offers add_arguments(parser) and command(args) -> int.
SUBCOMMANDS = {
    "simulate": (SIMULATOR, "build a simulated Backstage database and print its JSON manifest", True),
    "discover": ("cogito_migrate.discovery", "inventory the Backstage tenant schemas and write the dbt sources", False),
    "plan": ("cogito_migrate.plan",
             "a dry run: per client and entity, the rows a run would migrate, hold or find already there", False),
    "run": ("cogito_migrate.runner", "run the whole migration and print per-client counts", False),
    "verify": ("cogito_migrate.verify",
               "reconcile source and target per client and entity; non-zero exit on a mismatch", False),
    "docs": ("cogito_migrate.docs",
             "generate dbt's documentation site (lineage, every model and column) and serve it on 127.0.0.1", False),
    "lens": ("cogito_migrate.lens",
             "a block's turns with its genome and attractor lenses (the plan's analyzeTopic)", False),
    "benchmark": ("cogito_migrate.benchmark",
                  "time the migration against its floor, re-runs and a row-by-row loop, per scale", True),
}


def simulator_installed() -> bool:
    """The simulator is a development tool of its own (distribution `backstage-simulator`, the `dev` extra):
    an operator's install lacks it, and then has no `simulate` or `benchmark`."""
    return importlib.util.find_spec(SIMULATOR) is not None


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
    with_simulator = simulator_installed()
    for name, (module_name, help_text, needs_simulator) in SUBCOMMANDS.items():
        if needs_simulator and not with_simulator:
            continue
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
