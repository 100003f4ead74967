"""Where one `dbt build` spent its time: staging, intermediate, marts, lenses, indexes, vector indexes, tests.

dbt runs nodes on several threads (`threads` in profiles/profiles.yml), so the nodes' execution times add up to
more than the build took. Instead every instant of the build is shared equally among the nodes running at that
instant, and each share goes to its node's phase: the phases add up to the time some node was running, in wall
seconds, and what is left of the build step (dbt's start-up and parse, gaps between nodes) is in no phase.

Indexes are the marts' post-hook `create index` statements (macros/marts/mart_indexes.sql). dbt times each
statement in its events (`SQLQuery`, then `SQLQueryStatus` on the same thread, with its elapsed time); an index's
time is taken out of its mart's. Those are debug events, which a run does not write to its log (see dbt.py): an
IndexTimer, given to dbt as a callback, receives them whatever the log level, so the build is measured as an
operator's run logs (a debug file log made a scale-10 build about 15% slower). A primary key declared in a
contract is built by the mart's own insert, so it stays in `marts`.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

PHASES = ("staging", "intermediate", "marts", "lenses", "indexes", "vector indexes", "tests", "dbt other")
MODEL_FOLDERS = ("staging", "intermediate", "marts")
# The analysis over the migrated marts (models tagged `lens`, whichever folder they sit in): a phase of its own.
LENS_TAG = "lens"


class PhaseError(RuntimeError):
    """The target folder does not hold the invocation asked for."""


@dataclass(frozen=True)
class Span:
    phase: str
    start: float  # seconds since the epoch
    end: float


@dataclass(frozen=True)
class BuildPhases:
    """Wall seconds per phase (shared as the module says), and the plain sum of each phase's node times."""

    seconds: dict[str, float]
    node_seconds: dict[str, float]


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def node_phase(unique_id: str, manifest: dict[str, Any]) -> str:
    """tests for data and unit tests; lenses for a model tagged `lens`; a model's top folder under models/; seeds
    and hooks are `dbt other`."""
    kind = unique_id.split(".", 1)[0]
    if kind in ("test", "unit_test"):
        return "tests"
    node = manifest.get("nodes", {}).get(unique_id, {})
    if kind == "model" and LENS_TAG in node.get("tags", []):
        return "lenses"
    folder = node.get("fqn", [None, None])[1] if kind == "model" else None
    return folder if folder in MODEL_FOLDERS else "dbt other"


class IndexTimer:
    """A dbt callback (dbtRunner(callbacks=[...])): the `create index` statements of each invocation, per node.
    dbt calls it from its worker threads for every event; a statement's status follows it on the same thread."""

    def __init__(self) -> None:
        self._last_query: dict[str, tuple[str, bool]] = {}  # thread -> (node, is a vector index)
        self._spans: dict[str, dict[str, list[Span]]] = defaultdict(lambda: defaultdict(list))
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        name = event.info.name
        if name == "SQLQuery":
            with self._lock:
                self._last_query[event.info.thread] = (event.data.conn_name, "using hnsw" in event.data.sql.lower())
        elif name == "SQLQueryStatus" and event.data.status.startswith("CREATE INDEX"):
            end = event.info.ts.ToDatetime(tzinfo=timezone.utc).timestamp()
            with self._lock:
                node, is_vector = self._last_query.get(event.info.thread, ("", False))
                phase = "vector indexes" if is_vector else "indexes"
                self._spans[event.info.invocation_id][node].append(Span(phase, end - event.data.elapsed, end))

    def spans(self, invocation_id: str) -> dict[str, list[Span]]:
        with self._lock:
            return {node: list(spans) for node, spans in self._spans.get(invocation_id, {}).items()}


def node_spans(phase: str, start: float, end: float, indexes: list[Span]) -> list[Span]:
    """A node's time as its phase, with its index statements cut out as theirs."""
    pieces, cursor = [], start
    for index in sorted(indexes, key=lambda span: span.start):
        index_start, index_end = max(index.start, cursor), min(index.end, end)
        if index_end <= index_start:
            continue
        if index_start > cursor:
            pieces.append(Span(phase, cursor, index_start))
        pieces.append(Span(index.phase, index_start, index_end))
        cursor = index_end
    if end > cursor:
        pieces.append(Span(phase, cursor, end))
    return pieces


def share_time(spans: list[Span]) -> dict[str, float]:
    """Each instant shared equally among the spans running then, summed per phase."""
    events = sorted([(span.start, 1, span.phase) for span in spans] + [(span.end, -1, span.phase) for span in spans])
    totals = dict.fromkeys(PHASES, 0.0)
    active: Counter[str] = Counter()
    previous = None
    for moment, change, phase in events:
        running = sum(active.values())
        if previous is not None and running:
            for active_phase, count in active.items():
                totals[active_phase] += (moment - previous) * count / running
        active[phase] += change
        previous = moment
    return totals


def read_build_phases(target_path: Path, invocation_id: str, timer: IndexTimer) -> BuildPhases:
    """The phases of invocation `invocation_id` from run_results.json and manifest.json in target_path, and the
    index statements `timer` saw during it."""
    results = json.loads((target_path / "run_results.json").read_text())
    if results["metadata"].get("invocation_id") != invocation_id:
        raise PhaseError(f"{target_path}/run_results.json is not from dbt invocation {invocation_id}")
    manifest = json.loads((target_path / "manifest.json").read_text())
    indexes = timer.spans(invocation_id)
    spans: list[Span] = []
    for result in results["results"]:
        timing = result.get("timing") or []
        if not timing:
            continue
        start = min(_epoch(step["started_at"]) for step in timing)
        end = max(_epoch(step["completed_at"]) for step in timing)
        phase = node_phase(result["unique_id"], manifest)
        spans += node_spans(phase, start, end, indexes.get(result["unique_id"], []))
    node_seconds = dict.fromkeys(PHASES, 0.0)
    for span in spans:
        node_seconds[span.phase] += span.end - span.start
    return BuildPhases(share_time(spans), node_seconds)
