"""`cogito-migrate docs`: dbt's documentation site of the project, from the migrated database.

Every source, model, column, macro, seed and test with its description, the exposures (the Cogito application's
query, the lens readers, the analyses) and the lineage from each Backstage tenant schema through staging to the
marts. `dbt docs generate --static` writes `index.html` (with manifest.json and catalog.json beside it) and
`static_index.html`, one file that opens offline. `--serve` serves the folder on 127.0.0.1 only: the catalog
describes every table of the database, which is not for the network.
"""

from __future__ import annotations

import argparse
import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from cogito_migrate import database
from cogito_migrate.dbt import DEFAULT_TARGET, run_dbt

DEFAULT_PORT = 8080
SITE_FILES = ("index.html", "manifest.json", "catalog.json")


class DocsError(RuntimeError):
    pass


def generate(database_name: str, target_path: Path | None = None) -> Path:
    """`dbt docs generate --static` against the database; returns the folder holding the site."""
    result = run_dbt("docs", "generate", "--static", database_name=database_name, target_path=target_path,
                     capture=True)
    if not result.ok:
        problems = [line for line in result.stdout.splitlines() if "Error" in line or "error" in line]
        raise DocsError(f"dbt docs generate exited with {result.returncode}: "
                        + ("; ".join(problems[-3:]) or result.stdout[-800:]))
    folder = target_path or DEFAULT_TARGET
    missing = [name for name in SITE_FILES if not (folder / name).is_file()]
    if missing:
        raise DocsError(f"dbt docs generate wrote no {', '.join(missing)} in {folder}")
    return folder


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        pass  # one line per request would bury the address the operator needs


def server(folder: Path, port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """An HTTP server for the site folder on 127.0.0.1 (port 0: any free port); the caller runs and closes it."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", help="the migrated database (default: PGDATABASE or cogito)")
    parser.add_argument("--serve", action="store_true", help="serve the site on 127.0.0.1 until Ctrl-C")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    parser.add_argument("--target-path", type=Path, help="dbt's target folder (default: the project's target/)")


def command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    database_name = args.database or database.server_address().database
    try:
        database.start_if_needed()
        folder = generate(database_name, args.target_path)
    except (database.DatabaseError, DocsError) as exc:
        print(f"docs: {exc}", file=sys.stderr)
        return 2
    print(f"docs: {folder / 'index.html'} (one offline file: {folder / 'static_index.html'})", file=out)
    if not args.serve:
        return 0
    try:
        site = server(folder, args.port)
    except OSError as exc:
        print(f"docs: cannot serve on 127.0.0.1:{args.port} ({exc.strerror}); choose another --port", file=sys.stderr)
        return 2
    with site:
        print(f"docs: serving http://127.0.0.1:{site.server_address[1]}/ (Ctrl-C stops)", file=out, flush=True)
        try:
            site.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0
