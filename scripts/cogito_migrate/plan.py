"""`cogito-migrate plan`: a dry run. What a `cogito-migrate run` would do, per client and entity, writing nothing.

1. Discovery, as the run's first step checks it: the tenant schemas found, and what would stop the run there (a
   tenant schema missing from the client map, generated sources that no longer match the database, drifted columns
   whose values staging cannot cast). The plan goes on counting what it can: the tenants the sources know.
2. The counts: `dbt compile` of the analysis `analyses/migration_plan.sql` and every model it reads (no hooks run,
   nothing is created; `--full-refresh` so that incremental models compile as their whole query, not as the delta
   against a table they left). The compiled models are inlined as CTEs in dependency order (the way dbt inlines
   ephemeral models): views and tables the run would build are read as queries over the Backstage sources, never
   from the relations an earlier run left, which need not exist. Two inputs the run makes before dbt stand in as
   data: the client map seed (from its CSV) and the carried passwords (classified here as the password step would;
   statuses only, no hash). The query runs in a READ ONLY transaction, then rolls back.

Each source row's outcome is the run's own decision (int_source_rows) against the target as it is: `held`
(quarantined, not migrated), `new` / `changed` (the run would write it), `already_there`, `unaccounted` (no uuid:
the reconciliation would fail); the analysis says exactly how each is told.

Exit 0: a run would proceed. 1: it would stop (the message says why and what to do). 2: nothing could be planned.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import sys
import textwrap
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from cogito_migrate import database, discovery, passwords, vocabulary
from cogito_migrate.dbt import DEFAULT_TARGET, PARTIAL_PARSE_FILE, run_dbt
from cogito_migrate.runner import DBT_PROBLEM_MARKERS

ANALYSIS = "migration_plan"
PASSWORD_SOURCE = "migration.carried_passwords"  # source name.table the password step writes
OUTCOMES = ("already_there", "new", "changed", "held", "unaccounted")
# What each figure means, printed under the table and carried in the JSON.
MEANING = {
    "source_rows": "Backstage rows the migration answers for (as int_source_rows decides them now)",
    "already_there": "in the target with its Cogito id and client (turns, file chunks, events: and the same content "
                     "hash; the content of other entities is not compared: a changed name or email counts as already "
                     "there)",
    "would_migrate": "rows the run would write: new (no row with its id in the target yet) + changed (another "
                     "client or content hash)",
    "held": "quarantined and not migrated (migration.quarantine, disposition held)",
    "fallback": "rows that land with a stand-in (quarantined too, disposition migrated_with_fallback), whether "
                "already there or about to be written",
    "unaccounted": "rows without a Cogito id: the run's reconciliation would fail on them",
}


class PlanError(RuntimeError):
    """Nothing could be planned (no such database, the project does not compile); the message says why."""


# -- discovery --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tenant:
    schema: str
    layout: str
    client_id: int | None
    migrate: bool
    mapped: bool


@dataclass
class DiscoveryFindings:
    tenants: list[Tenant]
    unmapped: list[str] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)  # "schema.table.column: old -> new" (discovery.changes)
    unreadable: str | None = None  # discovery's message on drifted values staging cannot cast
    stops: list[str] = field(default_factory=list)  # one sentence each, with the next step


def check_discovery(conn: psycopg.Connection, project_dir: Path = database.PROJECT_ROOT) -> DiscoveryFindings:
    """What the run's discovery check would find, collected instead of raised."""
    clients = discovery.read_client_map(project_dir / discovery.CLIENT_MAP_FILE)
    schemas = discovery.inventory(discovery.read_catalogue(conn))
    tenants = [Tenant(s.schema, s.layout, clients[s.schema].client_id if s.schema in clients else None,
                      s.schema in clients and clients[s.schema].migrate, s.schema in clients)
               for s in schemas if s.kind == "tenant"]
    findings = DiscoveryFindings(tenants, unmapped=[t.schema for t in tenants if not t.mapped])
    if findings.unmapped:
        names = ", ".join(repr(s) for s in findings.unmapped)
        findings.stops.append(
            f"tenant schema(s) {names} are in the database but not in the client map: add a row for each to "
            f"{discovery.CLIENT_MAP_FILE} (migrate=false to skip it), run `cogito-migrate discover` and commit both")
        return findings  # the generated sources cannot be derived while a tenant has no client
    result = discovery.discover(conn, project_dir)
    outputs = dict(zip(discovery.outputs_paths(project_dir), (result.sources_yaml, result.lineage_macro), strict=True))
    try:
        discovery.check_generated(result, outputs, project_dir)
    except discovery.DiscoveryError as exc:  # the run's discover step would stop with this sentence
        sources = project_dir / discovery.SOURCES_FILE
        committed = sources.read_text(encoding="utf-8") if sources.exists() else ""
        findings.drifted = (discovery.changes(committed, result.sources_yaml, vocabulary.load(project_dir).column_specs)
                            or [f"{discovery.LINEAGE_FILE}: stale"])
        findings.stops.append(str(exc))
    try:
        discovery.check_values(conn, result, project_dir)
    except discovery.DiscoveryError as exc:
        findings.unreadable = str(exc)
        findings.stops.append("drifted columns hold values the migration cannot read (listed above): correct them "
                              "in Backstage or set migrate=false for that tenant")
    return findings


# -- the counts -------------------------------------------------------------------------------------------------------
def compile_plan(database_name: str, target_path: Path) -> tuple[list[Any], dict[str, Any]]:
    """The analysis and every node it reads, compiled (dbt's node objects, in no particular order), and the
    manifest (for the sources' relation names)."""
    default_parse = DEFAULT_TARGET / PARTIAL_PARSE_FILE
    if not (target_path / PARTIAL_PARSE_FILE).exists() and default_parse.exists():
        target_path.mkdir(parents=True, exist_ok=True)  # start from the run's parse: dbt checks it still applies
        shutil.copyfile(default_parse, target_path / PARTIAL_PARSE_FILE)
    result = run_dbt("compile", "--select", f"+{ANALYSIS}", "--indirect-selection", "empty", "--full-refresh",
                     database_name=database_name, target_path=target_path, capture=True)
    if not result.ok:
        problems = [line.strip() for line in result.stdout.splitlines()
                    if any(marker in line for marker in DBT_PROBLEM_MARKERS)]
        raise PlanError(f"dbt compile of the plan failed: {' '.join(problems[-3:]) or result.stdout[-600:]}")
    manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    return [item.node for item in result.result.result.results], manifest


def _cte_name(node: Any) -> str:
    return f"plan__{node.name}"


def seed_query(node: Any) -> str:
    """A seed as a query over its CSV, with its configured column types (an empty field is NULL, as dbt loads it)."""
    path = Path(node.root_path) / node.original_file_path
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    types = node.config.column_types or {}
    columns = ", ".join(
        sql.SQL("cast({} as {}) as {}").format(
            sql.Identifier(f"column_{i}"), sql.SQL(types.get(name, "text")), sql.Identifier(name)).as_string(None)
        for i, name in enumerate(header))
    values = ", ".join("(" + ", ".join(sql.Literal(value or None).as_string(None) + "::text" for value in row) + ")"
                       for row in body)
    aliases = ", ".join(f"column_{i}" for i in range(len(header)))
    return f"select {columns} from (values {values}) as seed ({aliases})"


def carried_passwords_query(conn: psycopg.Connection, hash_plaintexts: bool) -> sql.Composed:
    """The password step's statuses for every person, as the run would carry them (no hash: the decision reads the
    status and the shape only; plaintexts never leave this function)."""
    statuses = {"ids": [], "statuses": [], "shapes": []}
    for participant_id, password in passwords.read_source(conn):
        carried = passwords.carry_one(participant_id, password)  # never hashes: the plan needs no bcrypt
        # what --hash-plaintext-passwords would make of a plaintext, without its cost
        hashed = hash_plaintexts and carried.password_shape == "plaintext"
        statuses["ids"].append(participant_id)
        statuses["statuses"].append("hashed_from_plaintext" if hashed else carried.password_status)
        statuses["shapes"].append(carried.password_shape)
    return sql.SQL(
        "select participant_id, cast(null as text) as password_hash, password_status, password_shape "
        "from unnest({}::bigint[], {}::text[], {}::text[]) as carried (participant_id, password_status, password_shape)"
    ).format(sql.Literal(statuses["ids"]), sql.Literal(statuses["statuses"]), sql.Literal(statuses["shapes"]))


def inline(nodes: list[Any], overrides: dict[str, tuple[str, str]]) -> str:
    """One query: every compiled node as a CTE, dependencies first, each reference to a node's relation (or to a
    source relation in `overrides`, relation -> (CTE name, query)) pointing at its CTE; the analysis last. A node
    that reads its own relation keeps reading the table an earlier run left (its state, not its query)."""
    by_id = {node.unique_id: node for node in nodes if node.resource_type in ("model", "seed", "analysis")}
    ordered: list[Any] = []
    seen: set[str] = set()

    def visit(unique_id: str) -> None:
        if unique_id in seen or unique_id not in by_id:
            return
        seen.add(unique_id)
        for parent in getattr(by_id[unique_id].depends_on, "nodes", []):
            visit(parent)
        ordered.append(by_id[unique_id])

    analysis = next(node for node in by_id.values() if node.resource_type == "analysis" and node.name == ANALYSIS)
    visit(analysis.unique_id)
    names = {node.relation_name: f'"{_cte_name(node)}"' for node in ordered if node.relation_name}
    names.update({relation: f'"{name}"' for relation, (name, _) in overrides.items()})
    ctes = [f'"{name}" as (\n{query}\n)' for name, query in overrides.values()]
    for node in ordered:
        if node.resource_type == "seed":
            body = seed_query(node)
        else:
            own = {relation: name for relation, name in names.items() if relation != node.relation_name}
            pattern = re.compile("|".join(re.escape(relation) for relation in sorted(own, key=len, reverse=True)))
            body = pattern.sub(lambda match: own[match.group(0)], node.compiled_code) if own else node.compiled_code
        ctes.append(f'"{_cte_name(node)}" as (\n{body}\n)')
    return "with\n" + ",\n".join(ctes) + f'\nselect * from "{_cte_name(analysis)}"'


@dataclass(frozen=True)
class PlanCount:
    """Rows of one client and entity with one outcome and disposition; per reason when `reason` is set."""

    client_id: int | None
    entity: str
    outcome: str
    disposition: str
    reason: str | None
    rows: int


def count_rows(database_name: str, target_path: Path, hash_plaintexts: bool = False) -> list[PlanCount]:
    """The analysis' rows: compiled with its models inlined, run read-only and rolled back."""
    nodes, manifest = compile_plan(database_name, target_path)
    source_name, table_name = PASSWORD_SOURCE.split(".")
    password_source = next(source["relation_name"] for source in manifest["sources"].values()
                           if source["source_name"] == source_name and source["name"] == table_name)
    with database.connect(database_name, autocommit=False) as conn:
        conn.read_only = True  # every statement of the transaction below: PostgreSQL refuses any write
        try:
            passwords_query = carried_passwords_query(conn, hash_plaintexts).as_string(conn)
            query = inline(nodes, {password_source: ("plan__carried_passwords", passwords_query)})
            rows = conn.execute(query).fetchall()
        finally:
            conn.rollback()
    return [PlanCount(*row) for row in rows]


# -- the plan ---------------------------------------------------------------------------------------------------------
@dataclass
class EntityPlan:
    """One client and entity: the figures MEANING explains."""

    client_id: int | None
    backstage_schema: str | None
    entity: str
    source_rows: int = 0
    already_there: int = 0
    new: int = 0
    changed: int = 0
    held: int = 0
    fallback: int = 0
    unaccounted: int = 0
    held_reasons: dict[str, int] = field(default_factory=dict)
    fallback_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def would_migrate(self) -> int:
        return self.new + self.changed

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "would_migrate": self.would_migrate}


@dataclass
class Plan:
    database_name: str
    discovery: DiscoveryFindings
    entities: list[EntityPlan]
    problem: str | None = None  # why nothing could be counted

    @property
    def stops(self) -> list[str]:
        unaccounted = [f"{e.client_id} {e.entity}" for e in self.entities if e.unaccounted]
        extra = ([f"rows without a Cogito id ({', '.join(unaccounted)}): the run's reconciliation would fail; "
                  "see int_source_rows for the rows and report it"] if unaccounted else [])
        return [*self.discovery.stops, *extra]

    @property
    def would_proceed(self) -> bool:
        return not self.stops and self.problem is None

    def entity(self, client_id: int | None, entity: str) -> EntityPlan | None:
        return next((e for e in self.entities if e.client_id == client_id and e.entity == entity), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database_name,
            "would_proceed": self.would_proceed,
            "stops": self.stops,
            "problem": self.problem,
            "tenants": [asdict(t) for t in self.discovery.tenants],
            "unmapped_schemas": self.discovery.unmapped,
            "drifted_tables": self.discovery.drifted,
            "unreadable_values": self.discovery.unreadable,
            "entities": [e.as_json() for e in self.entities],
            "meaning": MEANING,
        }


def summarise(counts: list[PlanCount], schemas: dict[int, str]) -> list[EntityPlan]:
    """Per client and entity, in report order (no client first, then by client and the vocabulary's entities)."""
    plans: dict[tuple[int | None, str], EntityPlan] = {}
    reasons: dict[tuple[int | None, str], dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for count in counts:
        key = (count.client_id, count.entity)
        plan = plans.setdefault(key, EntityPlan(count.client_id, schemas.get(count.client_id), count.entity))
        if count.reason is not None:
            kind = "held" if count.disposition == "held" else "fallback"
            reasons[key][kind][count.reason] = reasons[key][kind].get(count.reason, 0) + count.rows
            continue
        plan.source_rows += count.rows
        setattr(plan, count.outcome, getattr(plan, count.outcome) + count.rows)
        if count.disposition == "migrated_with_fallback":
            plan.fallback += count.rows
    for key, by_kind in reasons.items():
        plans[key].held_reasons = dict(sorted(by_kind.get("held", {}).items()))
        plans[key].fallback_reasons = dict(sorted(by_kind.get("fallback", {}).items()))
    order = {entity.name: i for i, entity in enumerate(vocabulary.load().entities)}
    return sorted(plans.values(), key=lambda e: (e.client_id is not None, e.client_id or 0, order.get(e.entity, 99)))


def make_plan(database_name: str, target_path: Path | None = None, hash_plaintexts: bool = False,
              project_dir: Path = database.PROJECT_ROOT) -> Plan:
    """Discovery's findings and the counts, writing nothing. Raises PlanError when the database is missing."""
    with database.connect("postgres") as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (database_name,)).fetchone():
            raise PlanError(f"database {database_name!r} does not exist: restore a Backstage dump into it or run "
                            "`cogito-migrate simulate` first")
    with database.connect(database_name) as conn:
        findings = check_discovery(conn, project_dir)
    clients = discovery.read_client_map(project_dir / discovery.CLIENT_MAP_FILE)
    schemas = {c.client_id: c.schema for c in clients.values() if c.client_id is not None}
    try:
        counts = count_rows(database_name, target_path or DEFAULT_TARGET / "plan", hash_plaintexts)
    except (PlanError, psycopg.Error) as exc:
        return Plan(database_name, findings, [], problem=f"{type(exc).__name__}: {exc}")
    return Plan(database_name, findings, summarise(counts, schemas))


# -- output -----------------------------------------------------------------------------------------------------------
def _reasons(plan: EntityPlan) -> str:
    parts = []
    if plan.held_reasons:
        parts.append("held: " + ", ".join(f"{reason} {rows:,}" for reason, rows in plan.held_reasons.items()))
    if plan.fallback_reasons:
        parts.append("fallback: " + ", ".join(f"{reason} {rows:,}" for reason, rows in plan.fallback_reasons.items()))
    return "; ".join(parts) or "-"


def format_plan(plan: Plan) -> str:
    lines = [f"plan for database {plan.database_name!r}: nothing written; each row's decision as a run would make it,"
             " against the target as it is now", ""]
    tenants = ", ".join(
        f"{t.schema} ({t.layout}, " + (f"client {t.client_id})" if t.migrate else
                                       "not migrated)" if t.mapped else "UNMAPPED)")
        for t in plan.discovery.tenants)
    lines.append(textwrap.fill(f"tenant schemas: {tenants or 'none'}", width=120, subsequent_indent="  "))
    for name in plan.discovery.drifted:
        lines.append(f"drifted: {name}")
    if plan.discovery.unreadable:
        lines.append(plan.discovery.unreadable)
    lines.append("")
    if plan.problem:
        lines.append(f"no counts: {plan.problem}")
        return "\n".join(lines)
    header = ("client", "entity", "source", "already there", "would migrate", "new", "changed", "held", "fallback",
              "quarantine reasons (rows)")
    table = [header]
    total = EntityPlan(None, None, "all")
    for e in plan.entities:
        client = "(no client)" if e.client_id is None else f"{e.client_id} {e.backstage_schema or '(unmapped)'}"
        table.append((client, e.entity, *(f"{n:,}" for n in (
            e.source_rows, e.already_there, e.would_migrate, e.new, e.changed, e.held, e.fallback)), _reasons(e)))
        for figure in ("source_rows", "already_there", "new", "changed", "held", "fallback", "unaccounted"):
            setattr(total, figure, getattr(total, figure) + getattr(e, figure))
    table.append(("all clients", "", *(f"{n:,}" for n in (
        total.source_rows, total.already_there, total.would_migrate, total.new, total.changed, total.held,
        total.fallback)), ""))
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for number, row in enumerate(table):
        cells = [cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append(("  ".join(cells) + "  " + row[-1]).rstrip())
        if number == 0 or number == len(table) - 2:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(header[-1]))
    if total.unaccounted:
        lines.append(f"unaccounted: {total.unaccounted:,} rows ({MEANING['unaccounted']})")
    lines += ["", *(textwrap.fill(f"{name.replace('_', ' ')}: {text}", width=120, subsequent_indent="  ")
                    for name, text in MEANING.items() if name != "unaccounted")]
    return "\n".join(lines)


# -- command line -----------------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", help="database holding Backstage and receiving Cogito (default: PGDATABASE or "
                                           "cogito)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON instead of a table")
    parser.add_argument("--hash-plaintext-passwords", action="store_true",
                        help="plan as a run with this option would (plaintext passwords hashed, no reset required)")
    parser.add_argument("--target-path", type=Path,
                        help="dbt's target folder for the plan's compile (default: target/plan, apart from the run's)")


def command(args: argparse.Namespace) -> int:
    database.start_if_needed()
    name = args.database or database.server_address().database
    try:
        plan = make_plan(name, target_path=args.target_path, hash_plaintexts=args.hash_plaintext_passwords)
    except PlanError as exc:
        print(f"plan: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(plan.as_json(), indent=2) if args.json else format_plan(plan))
    sys.stdout.flush()
    if plan.problem:
        print(f"plan: nothing counted ({plan.problem})", file=sys.stderr)
    for stop in plan.stops:
        print(f"plan: a run would stop: {stop}", file=sys.stderr)
    if plan.would_proceed:
        print("plan: a run would proceed", file=sys.stderr)
        return 0
    return 1 if plan.stops else 2
