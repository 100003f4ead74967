"""The command line with and without the simulator: an operator's install (the tool alone) has every migration
command and no `simulate` or `benchmark`; the development install has them all."""

from __future__ import annotations

import argparse
import subprocess
import sys

from cogito_migrate import cli

# A fresh interpreter where `backstage_simulator` cannot be imported, as after a plain `pip install .` of the tool.
WITHOUT_SIMULATOR = (
    "import sys; sys.modules['backstage_simulator'] = None; "
    "from cogito_migrate import cli; raise SystemExit(cli.main(sys.argv[1:]))"
)


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    return set(next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices)


def without_simulator(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_SIMULATOR, *args], capture_output=True, text=True, timeout=120)


def test_the_development_install_has_every_command() -> None:
    assert cli.simulator_installed()
    assert subcommands(cli.build_parser()) == {"db", "simulate", "discover", "plan", "run", "verify", "docs", "lens", "benchmark"}


def test_without_the_simulator_the_migration_commands_work_and_the_simulator_ones_are_absent(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "backstage_simulator", None)
    assert not cli.simulator_installed()
    assert subcommands(cli.build_parser()) == {"db", "discover", "plan", "run", "verify", "docs", "lens"}

    usage = without_simulator("--help")
    assert usage.returncode == 0, usage.stderr
    assert "{db,discover,plan,run,verify,docs,lens}" in usage.stdout
    url = without_simulator("db", "url")
    assert url.returncode == 0 and url.stdout.startswith("postgresql://"), url.stderr
    simulate = without_simulator("simulate")
    assert simulate.returncode == 2 and "invalid choice: 'simulate'" in simulate.stderr
