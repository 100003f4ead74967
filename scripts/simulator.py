"""Placeholder until the simulator lands."""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def command(args: argparse.Namespace) -> int:
    raise SystemExit("simulator: not built yet")
