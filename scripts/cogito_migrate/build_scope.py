"""Which dbt nodes a re-run must build: those that read a table changed since the last verified build.

build_inputs keeps, for the last build that succeeded and reconciled, every table's state (row count, row-version
hash, structure) and the project's digest. When the project and every table's structure are as they were, a node
whose inputs are all unchanged would do what it did then: a model would write nothing (the re-run tests prove that
a build over its own output writes nothing), a test would pass. So a re-run builds only the nodes that read,
directly or through their parents, a table whose rows changed:

- a node's inputs are its own table (an incremental model compares with it) and the tables of all its ancestors
  in dbt's graph, sources included;
- a model that reads a mart's table with `migrated_rows` (a mart downstream of it: dbt's graph cannot show the
  read) declares the mart in `meta.reads_marts` (the macro refuses an undeclared one): those tables are inputs too;
- a node using any other project macro that reads relations outside the graph (one that calls
  `adapter.get_relation` or walks `graph.nodes`) counts every table as its input;
- views hold no rows: with the project and the structures unchanged, dbt would create each one as it is, so a view
  is built only when a table it stands on is replaced (dbt drops the old table with cascade, and the view with it)
  or when its SQL is compiled from what the target holds (a view reading a mart with `migrated_rows` selects from
  an empty stand-in until the mart exists) and it reads a changed table; their tests, which read the rows through
  them, are chosen like any node.
Anything else in the schemas the project reads or writes (another project digest, a table added, dropped or altered,
a foreign table), or no verified build, builds everything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cogito_migrate.build_inputs import Fingerprint

BUILT_TYPES = frozenset({"model", "seed", "snapshot", "test"})
# What a project macro does when it reads relations outside the graph dbt draws from ref() and source().
HIDDEN_READ_MARKERS = ("get_relation(", "graph.nodes")
# The one such macro whose reads are declared: the node's own table, and the marts in its meta.reads_marts.
DECLARED_READS_MACRO = "migrated_rows"


@dataclass(frozen=True)
class Scope:
    """The nodes a re-run builds (dbt unique ids) and why: the tables whose rows changed."""

    nodes: frozenset[str]
    changed_tables: tuple[str, ...]
    skipped: int  # nodes left as the verified build left them

    @property
    def selectors(self) -> list[str]:
        """dbt --select arguments for these nodes: their names (fqn leaves, unique within the project)."""
        return sorted({unique_id.split(".")[2] for unique_id in self.nodes})

    def describe(self) -> str:
        return (f"{len(self.nodes)} nodes read one of the {len(self.changed_tables)} changed tables; "
                f"{self.skipped} left as the verified build left them")


def read_manifest(target_path: Path) -> dict[str, Any] | None:
    """dbt's manifest in a target folder (None: there is none)."""
    try:
        return json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def changed_rows_only(verified: Fingerprint, current: Fingerprint, schemas: set[str]) -> list[str] | None:
    """The tables whose rows changed, or None when anything else changed in the project's schemas (`schemas`: those
    it reads or writes): the project, a table added, dropped or altered, or a foreign table (rows unknowable).
    Then everything builds. Tables elsewhere (e.g. another tool's bookkeeping) are only compared by their rows."""
    if not (current.knowable and verified.knowable) or current.project_digest != verified.project_digest:
        return None
    for name in current.tables.keys() | verified.tables.keys():
        # a dropped table's schema is not known here (the record keeps names only): count it in
        in_project = name not in current.locations or current.locations[name][0] in schemas
        if in_project and current.structure(name) != verified.structure(name):
            return None
    return current.changed_tables(verified)


class Graph:
    """dbt's graph from a manifest, with each node's table named as the fingerprint names it."""

    def __init__(self, manifest: dict[str, Any], table_names: dict[tuple[str, str], str]):
        self.nodes = {**manifest["nodes"], **manifest["sources"]}
        self.table_names = table_names
        project = manifest["metadata"]["project_name"]
        self.project = project
        hidden = {unique_id for unique_id, macro in manifest["macros"].items()
                  if macro["package_name"] == project and macro["name"] != DECLARED_READS_MACRO
                  and any(marker in macro["macro_sql"] for marker in HIDDEN_READ_MARKERS)}
        self.macros = manifest["macros"]
        self.hidden_read_macros = frozenset(hidden)
        self._ancestors: dict[str, frozenset[str]] = {}

    def table(self, unique_id: str) -> str | None:
        """The fingerprint's name of a node's table (None: the node has none, e.g. a test)."""
        node = self.nodes[unique_id]
        kind = node["resource_type"]
        if kind == "source":
            name = node["identifier"]
        elif kind in ("model", "seed", "snapshot"):
            name = node["alias"]
        else:
            return None
        # a table the catalogue does not list yet has no fingerprint name: spell it as format('%I.%I') would
        return self.table_names.get((node["schema"], name), f"{node['schema']}.{name}")

    def ancestors(self, unique_id: str) -> frozenset[str]:
        """The node and everything upstream of it."""
        known = self._ancestors.get(unique_id)
        if known is None:
            parents = self.nodes[unique_id].get("depends_on", {}).get("nodes", [])
            known = frozenset({unique_id}).union(*(self.ancestors(p) for p in parents if p in self.nodes))
            self._ancestors[unique_id] = known
        return known

    def reads_outside_graph(self, unique_id: str) -> bool:
        """Whether one of the node's macros, or a macro they call, reads relations dbt's graph does not show."""
        pending = list(self.nodes[unique_id].get("depends_on", {}).get("macros", []))
        seen: set[str] = set()
        while pending:
            macro = pending.pop()
            if macro in seen or macro not in self.macros:
                continue
            if macro in self.hidden_read_macros:
                return True
            seen.add(macro)
            pending.extend(self.macros[macro]["depends_on"]["macros"])
        return False

    def compiled_from_target(self, unique_id: str) -> bool:
        """Whether the node's SQL itself depends on what the database holds when dbt compiles it (migrated_rows
        reads an empty stand-in until its mart exists; other lookups may see anything), not only its rows."""
        return self.reads_outside_graph(unique_id) or bool(self.declared_reads(unique_id))

    def declared_reads(self, unique_id: str) -> set[str]:
        """The marts a node declares it reads with migrated_rows (meta.reads_marts), as unique ids."""
        meta = self.nodes[unique_id].get("config", {}).get("meta") or {}
        return {f"model.{self.project}.{mart}" for mart in meta.get("reads_marts") or []}

    def inputs(self, unique_id: str) -> set[str] | None:
        """The tables a node reads (None: every table, it reads outside the graph)."""
        ancestors = self.ancestors(unique_id)
        if any(self.reads_outside_graph(node) for node in ancestors):
            return None
        read = ancestors.union(*(self.declared_reads(node) for node in ancestors))
        return {table for node in read if node in self.nodes and (table := self.table(node)) is not None}


def materialized(node: dict[str, Any]) -> str | None:
    return node["config"].get("materialized") if node["resource_type"] == "model" else None


def affected(graph: Graph, changed: Iterable[str]) -> tuple[frozenset[str], int]:
    """The nodes to build for these changed tables, and how many are left out."""
    changed = set(changed)
    built = {unique_id for unique_id, node in graph.nodes.items() if node["resource_type"] in BUILT_TYPES}
    chosen = set()
    for unique_id in built:
        inputs = graph.inputs(unique_id)
        if inputs is not None and not inputs & changed:
            continue
        if materialized(graph.nodes[unique_id]) == "view" and not graph.compiled_from_target(unique_id):
            continue
        chosen.add(unique_id)
    # dbt replaces a table model by dropping the old table with cascade, which drops the views built on it
    replaced = {unique_id for unique_id in chosen if materialized(graph.nodes[unique_id]) == "table"}
    chosen |= {unique_id for unique_id in built
               if materialized(graph.nodes[unique_id]) == "view" and graph.ancestors(unique_id) & replaced}
    return frozenset(chosen), len(built) - len(chosen)


def scope(verified: Fingerprint | None, current: Fingerprint, manifest: dict[str, Any]) -> Scope | None:
    """What a re-run builds; None when it must build everything."""
    if verified is None:
        return None
    schemas = {node["schema"] for node in (*manifest["nodes"].values(), *manifest["sources"].values())}
    changed = changed_rows_only(verified, current, schemas)
    if changed is None:
        return None
    graph = Graph(manifest, current.table_names)
    nodes, left = affected(graph, changed)
    return Scope(nodes, tuple(changed), left)
