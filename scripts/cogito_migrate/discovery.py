"""`cogito-migrate discover`: inventory the Backstage schemas and write the dbt sources for them.

One catalogue query lists every table and column of the database. Tenant schemas are recognised by their
marker tables (topic layout: `topic_paths` / `grp_topic_avatar_turns`; legacy: `grp_cons` /
`grp_con_avatar_turns`), mapped to Cogito clients through `seeds/backstage_clients.csv`, and compared with the
column specs of the vocabulary (`backstage_column_specs` in dbt_project.yml). Two files are written:

- `models/staging/backstage/_backstage__sources.yml`: one source per Backstage schema (`backstage_public`,
  `backstage_dev`, ...), with the client in `meta` and freshness, every table staging reads (those with a column
  spec) with its drift from the spec; no column is listed but the secrets (names and types are the catalogue's,
  what staging reads is the spec's). Tables without a spec are not declared: nothing reads them, and each source
  table costs every dbt parse its share (200 tenants: thousands of tables); `stg_backstage__tenant_columns`
  still lists every column of every Backstage schema;
- `macros/backstage/generated/backstage_discovered_tables.sql`: the (source, table) pairs the union macros
  declare at parse time, when dbt's `graph` is still empty.

`--check` writes nothing and fails when either file no longer matches the database. Both stop when a column whose
type drifted holds values staging cannot cast to its spec type (one more query, over the drifted columns only).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from psycopg import sql

from cogito_migrate import database, vocabulary

SOURCES_FILE = Path("models/staging/backstage/_backstage__sources.yml")
LINEAGE_FILE = Path("macros/backstage/generated/backstage_discovered_tables.sql")
CLIENT_MAP_FILE = Path("seeds/backstage_clients.csv")

TOPIC_MARKERS = frozenset({"topic_paths", "grp_topic_avatar_turns"})
LEGACY_MARKERS = frozenset({"grp_cons", "grp_con_avatar_turns"})
# Never exposed as a source: web sessions are not migrated and hold cookies.
EXCLUDED_PUBLIC_TABLES = frozenset({"session"})
# Columns that exist in Backstage but must never be read; their source description says so.
SECRET_COLUMNS = {("public", "llms", "api_key"), ("public", "participants", "password")}
SECRET_COLUMN = "SECRET, never read by any model except the restricted password model."
# A read table without a description of its own (only read tables are declared).
READ_TABLE = "Read by staging through its column spec (vars `backstage_column_specs`)."
TIMESTAMP_COLUMNS = ("created_at", "uploaded_at", "created_on", "updated_at")
FRESHNESS = {"warn_after": {"count": 7, "period": "day"}}

# One catalogue query for the whole database; system schemas are never Backstage's.
CATALOGUE_SQL = """
select n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
from pg_catalog.pg_attribute as a
join pg_catalog.pg_class as c on c.oid = a.attrelid
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and a.attnum > 0
  and not a.attisdropped
  and n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname not like 'pg\\_toast%'
  and n.nspname not like 'pg\\_temp%'
order by n.nspname, c.relname, a.attnum
"""

TABLE_DESCRIPTIONS = {
    "participants": "Global people (no client column: membership is a footprint in tenant schemas).",
    "llms": "LLM configurations. api_key is a live provider key: never read.",
    "schemas": "Names of tenant schemas, used by the newer event log.",
    "participant_event_logs": "The newer, global event log; schema_id names the tenant.",
    "file_uploads": "File uploads (public: tenants without their own table wrote here; bucket_name names the tenant).",
    "file_upload_vectors": "1000-character chunks of uploaded files with their embeddings.",
    "topic_paths": "Topics: hierarchical ltree paths (a parent need not exist as a row).",
    "grp_topic_avatar_turns": "Turns of the topic layout (no foreign keys).",
    "grp_cons": "Legacy conversations, optionally nested under a parent conversation.",
    "grp_con_avatar_turns": "Turns of the legacy layout (no participant column).",
    "grp_con_uploads": "Uploads attached to legacy conversations.",
    "grp_con_upload_vectors": "Chunks of legacy uploads.",
    "avatars": "AI personas; llm_config may hold an api_key (stripped in staging).",
    "groups": "Groups of people.",
    "participant_groups": "Group memberships (role id in the topic layout, role text in the legacy one).",
    "participant_avatars": "Which person owns which avatar.",
    "participant_llms": "Which person uses which LLM.",
    "participant_preferences": "Preference history (no unique key on person and type).",
    "participant_events": "The older per-tenant event log.",
    "grp_templates": "Group templates.",
}


class DiscoveryError(RuntimeError):
    """Discovery cannot go on; the message says what the operator must change."""


@dataclass(frozen=True)
class Client:
    schema: str
    client_id: int | None
    name: str
    subdomain: str | None
    migrate: bool


@dataclass
class SchemaInventory:
    """One Backstage schema as found in the database."""

    schema: str
    kind: str  # tenant | public
    layout: str | None  # topic | legacy for tenants
    tables: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # table -> [(column, type)]


# ---- inputs ---------------------------------------------------------------------------------------------


def read_client_map(path: Path) -> dict[str, Client]:
    """The client map seed: schema -> client. Rejects a migrated schema without a client id."""
    clients: dict[str, Client] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            schema = row["schema"]
            client_id = int(row["client_id"]) if (row.get("client_id") or "").strip() else None
            migrate = (row.get("migrate") or "").strip().lower() in {"true", "t", "yes", "1"}
            if migrate and client_id is None:
                raise DiscoveryError(f"{path}:{line}: schema {schema!r} is to be migrated but has no client_id")
            clients[schema] = Client(schema, client_id, row["name"], (row.get("subdomain") or "").strip() or None, migrate)
    return clients


def read_catalogue(conn) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """schema -> table -> [(column, type)] for the whole database, in ONE query."""
    catalogue: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for schema, table, column, data_type in conn.execute(CATALOGUE_SQL):
        catalogue.setdefault(schema, {}).setdefault(table, []).append((column, data_type))
    return catalogue


# ---- analysis -------------------------------------------------------------------------------------------


def detect_layout(tables: Mapping[str, object]) -> str | None:
    """topic, legacy, or None when the schema is not a Backstage tenant. A schema with both wins as topic."""
    if TOPIC_MARKERS & tables.keys():
        return "topic"
    if LEGACY_MARKERS & tables.keys():
        return "legacy"
    return None


def inventory(catalogue: Mapping[str, Mapping[str, list[tuple[str, str]]]]) -> list[SchemaInventory]:
    """public plus every tenant schema (by marker tables), sorted by name."""
    found = []
    if "public" in catalogue:
        tables = {t: cols for t, cols in catalogue["public"].items() if t not in EXCLUDED_PUBLIC_TABLES}
        found.append(SchemaInventory("public", "public", None, dict(sorted(tables.items()))))
    for schema in sorted(s for s in catalogue if s != "public"):
        layout = detect_layout(catalogue[schema])
        if layout:
            found.append(SchemaInventory(schema, "tenant", layout, dict(sorted(catalogue[schema].items()))))
    return found


def check_mapped(schemas: list[SchemaInventory], clients: Mapping[str, Client], map_path: Path) -> list[str]:
    """Stop on a tenant schema the client map lacks; return warnings for mapped schemas not in the database."""
    tenants = [s.schema for s in schemas if s.kind == "tenant"]
    missing = [s for s in tenants if s not in clients]
    if missing:
        names = ", ".join(repr(s) for s in missing)
        raise DiscoveryError(
            f"tenant schema(s) {names} found in the database but not in the client map: add a row for each to "
            f"{map_path} (schema,client_id,name,subdomain,migrate; migrate=false to skip it) and run "
            "`cogito-migrate discover` again"
        )
    return [f"warning: {map_path} maps schema {s!r}, which the database does not have" for s in clients if s not in tenants]


def column_drift(columns: list[tuple[str, str]], spec: Mapping[str, str] | None) -> dict[str, object]:
    """How a table differs from its column spec: spec columns it lacks, columns the spec ignores, type casts."""
    if spec is None:
        return {}
    actual = dict(columns)
    drift: dict[str, object] = {}
    missing = [c for c in spec if c not in actual]
    extra = [c for c in actual if c not in spec]
    cast = {c: f"{actual[c]} -> {spec[c]}" for c in spec if c in actual and actual[c] != spec[c]}
    if missing:
        drift["missing_columns_null"] = missing
    if extra:
        drift["ignored_columns"] = extra
    if cast:
        drift["cast_columns"] = cast
    return drift


# Spec types whose values are short scalars: an unreadable one may be shown in the error (never json or text).
SCALAR_TYPES = ("smallint", "integer", "bigint", "numeric", "real", "double precision", "boolean",
                "timestamp with time zone", "timestamp without time zone", "date")
TEXT_TYPES = ("text", "character varying", "character", "name")


INTEGER_BYTES = {"smallint": 2, "integer": 4, "bigint": 8}


def always_fits(actual: str, wanted: str) -> bool:
    """A cast no value can fail: to a wider integer, an integer or a bounded numeric to unbounded numeric. Those
    are not checked (with 200 tenants, thousands of integer -> bigint ids would each cost a scan)."""
    if actual in INTEGER_BYTES and wanted in INTEGER_BYTES:
        return INTEGER_BYTES[actual] <= INTEGER_BYTES[wanted]
    return wanted == "numeric" and (actual in INTEGER_BYTES or actual.split("(")[0] == "numeric")


def drifted_casts(
    schemas: list[SchemaInventory], clients: Mapping[str, Client], specs: Mapping[str, Mapping[str, str]]
) -> list[tuple[str, str, str, str, str]]:
    """(schema, table, column, actual type, spec type) of every column staging must cast to a non-text type,
    in public and the migrated tenants: a value that does not fit that type would stop the build."""
    casts = []
    for item in schemas:
        if item.kind == "tenant" and not clients[item.schema].migrate:
            continue
        for table, columns in item.tables.items():
            spec = specs.get(table) or {}
            for column, actual in columns:
                wanted = spec.get(column)
                if (wanted and actual != wanted and wanted.split("(")[0] not in TEXT_TYPES
                        and not always_fits(actual, wanted)):
                    casts.append((item.schema, table, column, actual, wanted))
    return casts


def unreadable_values(conn, casts: list[tuple[str, str, str, str, str]]) -> list[str]:
    """One query over every drifted column: the values that cannot be read as the spec type, per column.
    Examples are shown for scalar columns read from text only (json or free text could hold personal data)."""
    if not casts:
        return []
    parts = []
    for schema, table, column, actual, wanted in casts:
        show = wanted in SCALAR_TYPES and actual.split("(")[0] in TEXT_TYPES
        parts.append(sql.SQL(
            "select {schema_name}, {table_name}, {column_name}, count(*), "
            + ("(array_agg(left(value, 40) order by value))[1:3]" if show else "null::text[]")
            + " from (select cast({column} as text) as value from {relation}) as drifted"
            " where value is not null and not pg_input_is_valid(value, {wanted})"
            " having count(*) > 0"
        ).format(
            schema_name=sql.Literal(schema), table_name=sql.Literal(table),
            column_name=sql.Literal(column), column=sql.Identifier(column),
            relation=sql.Identifier(schema, table), wanted=sql.Literal(wanted),
        ))
    rows = conn.execute(sql.SQL(" union all ").join(parts)).fetchall()
    types = {(s, t, c): (a, w) for s, t, c, a, w in casts}
    problems = []
    for schema, table, column, count, examples in rows:
        actual, wanted = types[(schema, table, column)]
        shown = f", e.g. {', '.join(repr(e) for e in examples)}" if examples else ""
        problems.append(f"{schema}.{table}.{column} ({actual}, read as {wanted}): {count} value(s) do not fit{shown}")
    return problems


def source_names(schemas: list[SchemaInventory]) -> dict[str, str]:
    """schema -> dbt source name `backstage_<sanitised>`, unique even when two names sanitise alike."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for item in schemas:
        base = "backstage_" + (re.sub(r"[^a-z0-9]+", "_", item.schema.lower()).strip("_") or "schema")
        name, suffix = base, 2
        while name in taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(name)
        names[item.schema] = name
    return names


# ---- outputs --------------------------------------------------------------------------------------------


def _table_entry(item: SchemaInventory, table: str, columns: list[tuple[str, str]], specs) -> dict:
    """A source table: what it is, its drift and freshness. Columns are listed only where there is something to
    say (the secrets): names and types are in the catalogue, what staging reads in the column spec."""
    spec = specs.get(table)
    entry: dict[str, object] = {
        "name": table,
        "description": TABLE_DESCRIPTIONS.get(table) or READ_TABLE,
    }
    config: dict[str, object] = {}
    drift = column_drift(columns, spec)
    if drift:
        config["meta"] = {"drift": drift}
    # freshness and its column are set per source (created_at): a table says only how it differs (without a
    # timestamp it has no freshness, and the column it inherits is never read)
    timestamp = next((c for c in TIMESTAMP_COLUMNS if c in dict(columns)), None)
    if timestamp is None:
        config["freshness"] = None
    elif timestamp != TIMESTAMP_COLUMNS[0]:
        config["loaded_at_field"] = timestamp
    if config:
        entry["config"] = _OneLine(config)
    secrets = [{"name": c, "description": SECRET_COLUMN} for c, _ in columns if (item.schema, table, c) in SECRET_COLUMNS]
    if secrets:
        entry["columns"] = secrets
    return entry


def build_sources(
    schemas: list[SchemaInventory], clients: Mapping[str, Client], specs: Mapping[str, Mapping[str, str]]
) -> dict:
    """The sources YAML document (as a dict)."""
    names = source_names(schemas)
    sources = []
    for item in schemas:
        if item.kind == "public":
            meta = {"backstage_kind": "public"}
            description = "Backstage's public schema: global people, LLMs, lookups, the newer event log, some uploads."
        else:
            client = clients[item.schema]
            meta = {
                "backstage_kind": "tenant",
                "client_id": client.client_id,
                "client_name": client.name,
                "subdomain": client.subdomain,
                "layout": item.layout,
                "migrate": client.migrate,
            }
            description = (
                f"Backstage tenant schema `{item.schema}` ({item.layout} layout): client "
                f"{client.client_id if client.client_id is not None else '(none)'} {client.name}"
                f"{'' if client.migrate else ', not migrated'}."
            )
        sources.append(
            {
                "name": names[item.schema],
                "description": description,
                "schema": item.schema,
                "quoting": {"database": True, "schema": True, "identifier": True},
                "config": {"meta": meta, "loaded_at_field": TIMESTAMP_COLUMNS[0], "freshness": FRESHNESS},
                "tables": [_table_entry(item, t, cols, specs) for t, cols in item.tables.items() if t in specs],
            }
        )
    return {"version": 2, "sources": sources}


# libyaml's emitter writes the same text several times faster (200 tenants: seconds at every run's check).
class _NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    def ignore_aliases(self, data) -> bool:  # repeated dicts must be written out, not anchored
        return True


class _OneLine(dict):
    """A mapping written in flow style, however deep (a table's config): one line where it fits."""


_NoAliasDumper.add_representer(
    _OneLine, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))


def render_sources_yaml(document: dict) -> str:
    header = (
        "# Generated by `cogito-migrate discover` from the database and seeds/backstage_clients.csv: do not edit.\n"
        "# Re-run discover after a schema change; `cogito-migrate discover --check` fails when this file is stale.\n"
    )
    # lists and mappings of plain values on one line each: the file stays short
    return header + yaml.dump(document, Dumper=_NoAliasDumper, sort_keys=False, width=120, allow_unicode=True,
                              default_flow_style=None)


def render_lineage_macro(
    schemas: list[SchemaInventory], clients: Mapping[str, Client], specs: Mapping[str, Mapping[str, str]]
) -> str:
    """The parse-time (source, table) list: migrated tenants and public, tables the specs know only."""
    names = source_names(schemas)
    pairs: dict[str, list[str]] = {}
    for item in schemas:
        if item.kind == "tenant" and not clients[item.schema].migrate:
            continue
        pairs[names[item.schema]] = [t for t in item.tables if t in specs]
    # JSON literals are valid Jinja literals; source and spec table names are plain identifiers.
    body = json.dumps(pairs, indent=4, sort_keys=True)
    return (
        "{#- Generated by `cogito-migrate discover`: do not edit. Parse-time lineage for the Backstage unions. -#}\n"
        "{% macro backstage_discovered_tables() %}\n"
        f"{{{{ return({body}) }}}}\n"
        "{% endmacro %}\n"
    )


@dataclass
class Discovery:
    """Everything discover found, ready to write or compare."""

    schemas: list[SchemaInventory]
    sources_yaml: str
    lineage_macro: str
    warnings: list[str]


def discover(conn, project_dir: Path) -> Discovery:
    """Run the catalogue query and build both generated files (in memory)."""
    clients = read_client_map(project_dir / CLIENT_MAP_FILE)
    specs = vocabulary.load(project_dir).column_specs
    schemas = inventory(read_catalogue(conn))
    warnings = check_mapped(schemas, clients, CLIENT_MAP_FILE)
    return Discovery(
        schemas=schemas,
        sources_yaml=render_sources_yaml(build_sources(schemas, clients, specs)),
        lineage_macro=render_lineage_macro(schemas, clients, specs),
        warnings=warnings,
    )


def check_values(conn, result: Discovery, project_dir: Path) -> None:
    """Stop on drifted columns holding values staging cannot cast (the build would fail there, less clearly)."""
    casts = drifted_casts(result.schemas, read_client_map(project_dir / CLIENT_MAP_FILE),
                          vocabulary.load(project_dir).column_specs)
    problems = unreadable_values(conn, casts)
    if problems:
        raise DiscoveryError(
            "Backstage columns whose type drifted hold values the migration cannot read as the expected type:\n  "
            + "\n  ".join(problems)
            + f"\nCorrect them in Backstage, or set migrate=false for that tenant in {CLIENT_MAP_FILE}, and run again."
        )


def column_states(document: Mapping, specs: Mapping[str, Mapping[str, str]]) -> dict[tuple[str, str, str], str]:
    """(schema, table, column) -> its type, `missing` or `not read`, for every column a sources document's drift
    names; a spec column it does not name has its spec type."""
    states = {}
    for source in document.get("sources", []):
        for table in source.get("tables", []):
            drift = (table.get("config") or {}).get("meta", {}).get("drift", {})
            key = (source["schema"], table["name"])
            states |= {(*key, column): wanted for column, wanted in (specs.get(table["name"]) or {}).items()}
            states |= {(*key, column): "missing" for column in drift.get("missing_columns_null", [])}
            states |= {(*key, column): "not read" for column in drift.get("ignored_columns", [])}
            states |= {(*key, column): cast.split(" -> ")[0] for column, cast in drift.get("cast_columns", {}).items()}
    return states


def changes(committed: str, current: str, specs: Mapping[str, Mapping[str, str]]) -> list[str]:
    """What differs between the committed sources file and the database's, in words: each column whose type or
    presence changed (`dev.grp_topic_avatar_turns.turn_index: numeric -> text`) and each table that came or went."""
    before, after = (yaml.safe_load(text) or {} for text in (committed, current))
    tables = [{(s["schema"], t["name"]) for s in document.get("sources", []) for t in s.get("tables", [])}
              for document in (before, after)]
    found = [f"{schema}.{table}: {change}" for change, names in (("new table", tables[1] - tables[0]),
                                                                  ("table gone", tables[0] - tables[1]))
             for schema, table in sorted(names)]
    old, new = column_states(before, specs), column_states(after, specs)
    for key in sorted(old.keys() | new.keys()):
        if key[:2] in tables[0] & tables[1] and old.get(key, "absent") != new.get(key, "absent"):
            found.append(f"{'.'.join(key)}: {old.get(key, 'absent')} -> {new.get(key, 'absent')}")
    return found


def check_generated(result: Discovery, outputs: Mapping[Path, str], project_dir: Path) -> None:
    """`--check`: DiscoveryError naming what changed when a generated file no longer matches the database."""
    stale = [path for path, expected in outputs.items()
             if (path.read_text(encoding="utf-8") if path.exists() else "") != expected]
    if not stale:
        return
    sources = next(iter(outputs))
    committed = sources.read_text(encoding="utf-8") if sources.exists() else ""
    named = changes(committed, result.sources_yaml, vocabulary.load(project_dir).column_specs)
    what = ("; ".join(named[:6]) + (f"; and {len(named) - 6} more" if len(named) > 6 else "") if named
            else "other generated text differs: " + ", ".join(str(path) for path in stale))
    raise DiscoveryError(f"the generated dbt sources no longer match the database ({what}): "
                         "run `cogito-migrate discover`, review and commit the files it writes")


def run(database_name: str | None, project_dir: Path) -> Discovery:
    """Discovery against a database: the catalogue, the client map, unreadable drifted values (DiscoveryError)."""
    with database.connect(database_name) as conn:
        result = discover(conn, project_dir)
        check_values(conn, result, project_dir)
    return result


def outputs_paths(project_dir: Path, sources: Path | None = None) -> tuple[Path, Path]:
    return (sources or project_dir / SOURCES_FILE, project_dir / LINEAGE_FILE)


def summary(result: Discovery) -> str:
    lines = []
    for item in result.schemas:
        label = "public" if item.kind == "public" else f"{item.layout} layout"
        lines.append(f"{item.schema}: {label}, {len(item.tables)} tables")
    return "\n".join(lines)


# ---- command line ---------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when the generated files are stale")
    parser.add_argument("--database", help="database holding Backstage (default: PGDATABASE or cogito)")
    parser.add_argument(
        "--project-dir", type=Path, default=database.PROJECT_ROOT, help="dbt project to read the client map and specs from"
    )
    parser.add_argument("--output", type=Path, help=f"sources YAML to write (default: <project-dir>/{SOURCES_FILE})")


def command(args: argparse.Namespace) -> int:
    project_dir: Path = args.project_dir.resolve()
    paths = outputs_paths(project_dir, args.output)
    try:
        result = run(args.database, project_dir)
        for warning in result.warnings:
            print(warning, file=sys.stderr)
        outputs = dict(zip(paths, (result.sources_yaml, result.lineage_macro), strict=True))
        if args.check:
            check_generated(result, outputs, project_dir)
            print("discover --check: generated sources match the database")
            return 0
    except DiscoveryError as exc:
        print(f"discover: {exc}", file=sys.stderr)
        return 1
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(summary(result))
    print(f"wrote {paths[0]} and {paths[1]}")
    return 0
