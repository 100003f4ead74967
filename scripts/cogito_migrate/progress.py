"""Live progress of a dbt command run in this process: nodes done of total, the nodes running, elapsed time, rows
written so far. Fed by dbt's own events (dbtRunner callbacks: a node starts, a node finishes), drawn with `rich`
on a terminal; elsewhere (CI, a file, a pipe) nothing is drawn and the run prints its plain line per step."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text


class BuildProgress:
    """What dbt has done so far, from its events. dbt calls `on_event` from its worker threads."""

    def __init__(self, label: str = "dbt") -> None:
        self.label = label
        self.started = time.monotonic()
        self.total = 0  # nodes dbt will run (known from the first start line)
        self.done = 0
        self.failed = 0
        self.rows_written = 0
        self.running: dict[str, str] = {}  # unique_id -> name, in start order
        self._lock = threading.Lock()

    def on_event(self, event: Any) -> None:
        name = event.info.name
        if name not in ("LogStartLine", "NodeStart", "NodeFinished"):
            return
        data = event.data
        with self._lock:
            if name == "LogStartLine":
                self.total = max(self.total, int(data.total))
            elif name == "NodeStart":
                self.running[data.node_info.unique_id] = data.node_info.node_name
            else:
                self.running.pop(data.node_info.unique_id, None)
                self.done += 1
                result = data.run_result
                if result.status in ("error", "fail"):
                    self.failed += 1
                if written_by_a_mart(data.node_info):
                    rows = result.adapter_response.fields.get("rows_affected") if result.adapter_response else None
                    self.rows_written += int(rows.number_value) if rows is not None else 0

    def line(self) -> str:
        with self._lock:
            elapsed = int(time.monotonic() - self.started)
            running = list(self.running.values())
            total = f"{self.total:,}" if self.total else "?"
            shown = ", ".join(running[:3]) + (f" and {len(running) - 3} more" if len(running) > 3 else "")
            failed = f", {self.failed} failed" if self.failed else ""
            return (f"{self.label}: {self.done:,}/{total} nodes{failed}, {elapsed // 60}:{elapsed % 60:02d} elapsed, "
                    f"{self.rows_written:,} rows written to the target" + (f"; running {shown}" if shown else ""))

    def __rich__(self) -> Text:  # Live redraws this
        return Text(self.line(), overflow="ellipsis", no_wrap=True)


def written_by_a_mart(node_info: Any) -> bool:
    """Rows a mart's insert or merge affected count as written, as in the run's summary (audit.read_run_results);
    the intermediate tables a build recomputes do not."""
    return node_info.node_path.startswith("marts/") and node_info.materialized == "incremental"


def is_terminal(out: TextIO) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def live(out: TextIO, label: str) -> Iterator[BuildProgress | None]:
    """A BuildProgress drawn live on `out` while the block runs, when `out` is a terminal; None otherwise."""
    if not is_terminal(out):
        yield None
        return
    progress = BuildProgress(label)
    console = Console(file=out)
    with Live(progress, console=console, refresh_per_second=4, transient=True):
        yield progress
