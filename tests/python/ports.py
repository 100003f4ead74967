"""A free TCP port on the loopback, for a server of a test's own (or, once the probe closes, for nothing listening)."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
