"""Placeholder until the discovery lands."""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def command(args: argparse.Namespace) -> int:
    raise SystemExit("discovery: not built yet")
