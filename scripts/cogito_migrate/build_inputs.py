"""What a build reads, fingerprinted: a run whose inputs are those of the last verified build skips the build.

A build is a function of what it reads: the Backstage tables (tenant schemas, `public`, the carried passwords),
the target tables it compares with (the marts, its intermediate tables, the reconciliation) and the project's SQL,
seeds and settings. The re-run tests prove that a build over its own output writes nothing. So when none of these
changed since a build that succeeded and reconciled, building again would write nothing and compute the same
reconciliation: the run skips the build and verifies the reconciliation that build left.

"Unchanged" is checked, never assumed:
- every table and view outside PostgreSQL's own schemas, each with its row count and its row versions: PostgreSQL
  writes a new row version, stamped with the writing transaction's id (`xmin`), for every insert and update, so the
  sum of a 64-bit hash of every row's xmin changes with any insert, update or delete (freezing, which rewrites old
  xmins, only makes a table look changed); and its structure: columns, indexes, constraints, row-level security
  policies, grants and view definitions;
- the project: every file dbt reads (models, macros, seeds, tests, dbt_project.yml, the profile), the tool's and
  dbt's versions.
A foreign table's rows cannot be fingerprinted: a database with one always builds. Two tables are left out: the
run audit (written after every run) and this record itself.

The sources are fingerprinted before the build and again after it: a source that moved while the build ran leaves
no record (the next run builds). The tables the build writes are taken after it. A write made by Cogito's
application while the build ran is therefore taken as part of the verified state, as one made after it would be:
the migration never rewrites Cogito's rows, and the next change to any input makes the next run build.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

from cogito_migrate import audit, database

RECORD_SCHEMA = "migration"
RECORD_TABLE = "verified_build_inputs"
# Written outside the build, by every run: not inputs.
NOT_INPUTS = frozenset({f"{audit.SCHEMA}.{audit.TABLE}", f"{RECORD_SCHEMA}.{RECORD_TABLE}"})
# dbt_project.yml keys naming the folders dbt reads; the files it reads there.
PROJECT_FOLDER_KEYS = ("model-paths", "macro-paths", "seed-paths", "test-paths", "snapshot-paths")
PROJECT_FILE_SUFFIXES = frozenset({".sql", ".yml", ".yaml", ".csv", ".md"})
PROJECT_FILES = ("dbt_project.yml", "profiles/profiles.yml")
UNKNOWABLE = "foreign table: rows cannot be fingerprinted"
# Tables counted per statement. One statement over every table of 200 tenants (thousands of tables, and their
# indexes) would hold more locks than PostgreSQL's lock table has room for (max_locks_per_transaction).
COUNT_BATCH = 500

CATALOGUE = """
select
    format('%I.%I', namespace.nspname, class.relname) as relation,
    namespace.nspname as schema_name,
    class.relname as table_name,
    class.relkind in ('r', 'm') as has_rows,
    class.relkind = 'f' as is_foreign,
    md5(concat_ws(' | ',
        class.relkind, class.relrowsecurity, class.relforcerowsecurity, class.relacl::text,
        (select string_agg(format('%I %s%s', attname, format_type(atttypid, atttypmod),
                                  case when attnotnull then ' not null' end), ', ' order by attnum)
         from pg_attribute where attrelid = class.oid and attnum > 0 and not attisdropped),
        (select string_agg(pg_get_indexdef(indexrelid), '; ' order by pg_get_indexdef(indexrelid))
         from pg_index where indrelid = class.oid),
        (select string_agg(conname || ' ' || pg_get_constraintdef(oid), '; ' order by conname)
         from pg_constraint where conrelid = class.oid),
        (select string_agg(concat_ws(' ', polname, polcmd, polpermissive, polroles::regrole[]::text,
                                     pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)),
                           '; ' order by polname)
         from pg_policy where polrelid = class.oid),
        case when class.relkind in ('v', 'm') then pg_get_viewdef(class.oid) end
    )) as structure
from pg_class as class
inner join pg_namespace as namespace on class.relnamespace = namespace.oid
where
    class.relkind in ('r', 'p', 'v', 'm', 'f')
    and namespace.nspname not in ('pg_catalog', 'information_schema')
    and namespace.nspname not like 'pg\\_%'
order by 1
"""

RECORD_DDL = f"""
create schema if not exists {RECORD_SCHEMA};
create table if not exists {RECORD_SCHEMA}.{RECORD_TABLE} (
    project_digest text not null,
    tables jsonb not null,
    recorded_at timestamptz not null default now()
);
alter table {RECORD_SCHEMA}.{RECORD_TABLE} add column if not exists dbt_invocation_id text;
comment on table {RECORD_SCHEMA}.{RECORD_TABLE} is
    'What the last verified build read (cogito_migrate.build_inputs): a run whose inputs are the same skips its build.';
"""


@dataclass(frozen=True)
class Fingerprint:
    project_digest: str
    tables: dict[str, str]  # schema.table -> structure, row count and row-version hash
    # schema.table -> (schema, table) unquoted, for the tables of this snapshot (not kept in the record)
    locations: dict[str, tuple[str, str]] = field(default_factory=dict, compare=False)

    @property
    def knowable(self) -> bool:
        return not any(UNKNOWABLE in state for state in self.tables.values())

    @property
    def table_names(self) -> dict[tuple[str, str], str]:
        """(schema, table) -> the name the fingerprint knows the table by."""
        return {location: name for name, location in self.locations.items()}

    def structure(self, name: str) -> str | None:
        """A table's structure digest (its state before the rows part), None when the table is not there."""
        state = self.tables.get(name)
        return None if state is None else state.split(";", 1)[0]

    def changed_tables(self, other: Fingerprint) -> list[str]:
        """Tables present in one only, or whose state differs."""
        names = self.tables.keys() | other.tables.keys()
        return sorted(name for name in names if self.tables.get(name) != other.tables.get(name))


@dataclass(frozen=True)
class VerifiedBuild:
    fingerprint: Fingerprint
    recorded_at: datetime
    # the dbt invocation that built it: its manifest.json, if still in the target folder, is the project's graph
    dbt_invocation_id: str | None = None

    @property
    def label(self) -> str:
        return f"the verified build of {self.recorded_at:%Y-%m-%d %H:%M:%S %Z}"

    def matches(self, current: Fingerprint) -> bool:
        return (
            current.knowable
            and current.project_digest == self.fingerprint.project_digest
            and current.tables == self.fingerprint.tables
        )


def project_digest(project_dir: Path | None = None) -> str:
    """sha256 over every file dbt reads in the project, and the tool's and dbt's versions."""
    root = Path(project_dir or database.PROJECT_ROOT)
    settings = yaml.safe_load((root / "dbt_project.yml").read_text(encoding="utf-8"))
    files = {root / name for name in PROJECT_FILES if (root / name).is_file()}
    for key in PROJECT_FOLDER_KEYS:
        for folder in settings.get(key, []):
            files.update(path for path in (root / folder).rglob("*")
                         if path.is_file() and path.suffix in PROJECT_FILE_SUFFIXES)
    digest = hashlib.sha256()
    for name in ("cogito-migrate", "dbt-core", "dbt-postgres"):
        digest.update(f"{name} {audit.distribution_version(name)}\n".encode())
    for path in sorted(files):
        digest.update(f"{path.relative_to(root)}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _read_releasing_locks(conn: psycopg.Connection, counts: list[sql.Composed]) -> list[tuple]:
    """The rows of `counts` (unioned), read in a savepoint that is then rolled back: the snapshot stays the
    transaction's, and the locks taken on the tables (and, by the planner, their indexes) are released."""
    with conn.transaction() as savepoint:
        found = conn.execute(sql.SQL(" union all ").join(counts)).fetchall()
        raise psycopg.Rollback(savepoint)
    return found


def take(conn: psycopg.Connection, project_dir: Path | None = None) -> Fingerprint:
    """Every table's state, read in one snapshot (a repeatable-read transaction), and the project's digest."""
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        catalogue = [row for row in conn.execute(CATALOGUE).fetchall() if row[0] not in NOT_INPUTS]
        counted = [sql.SQL(
            "select {name}, count(*), coalesce(sum(hashint8extended(xmin::text::bigint, 0)), 0) from {relation}"
        ).format(name=sql.Literal(name), relation=sql.SQL(name))
            for name, _, _, has_rows, _, _ in catalogue if has_rows]
        rows = {}
        for start in range(0, len(counted), COUNT_BATCH):
            rows |= {name: f"{count} rows, versions {versions}"
                     for name, count, versions in _read_releasing_locks(conn, counted[start:start + COUNT_BATCH])}
    tables = {
        name: f"{structure}; {UNKNOWABLE if is_foreign else rows.get(name, 'no rows')}"
        for name, _, _, _, is_foreign, structure in catalogue
    }
    return Fingerprint(project_digest(project_dir), tables, {row[0]: (row[1], row[2]) for row in catalogue})


@dataclass(frozen=True)
class Check:
    current: Fingerprint
    verified: VerifiedBuild | None  # the last verified build, whatever it read

    @property
    def unchanged_since(self) -> VerifiedBuild | None:
        """The verified build whose inputs are the current ones (None: none recorded, or something changed)."""
        return self.verified if self.verified is not None and self.verified.matches(self.current) else None


def check(conn: psycopg.Connection) -> Check:
    """The current fingerprint beside the last verified build."""
    return Check(take(conn), last_verified(conn))


def _recorded(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass(%s)", (f"{RECORD_SCHEMA}.{RECORD_TABLE}",)).fetchone() != (None,)


def last_verified(conn: psycopg.Connection) -> VerifiedBuild | None:
    """The inputs of the last build that succeeded and reconciled, if one is recorded."""
    if not _recorded(conn):
        return None
    row = conn.execute(  # as jsonb: a record written by an older version has no dbt_invocation_id
        f"select to_jsonb(record), recorded_at from {RECORD_SCHEMA}.{RECORD_TABLE} as record "
        "order by recorded_at desc limit 1"
    ).fetchone()
    if row is None:
        return None
    document, recorded_at = row
    return VerifiedBuild(Fingerprint(document["project_digest"], dict(document["tables"])), recorded_at,
                         document.get("dbt_invocation_id"))


def forget(conn: psycopg.Connection) -> None:
    """No verified build until the next one succeeds (a build is about to change what the record describes)."""
    if _recorded(conn):
        conn.execute(f"delete from {RECORD_SCHEMA}.{RECORD_TABLE}")


def record(conn: psycopg.Connection, fingerprint: Fingerprint, dbt_invocation_id: str | None = None) -> None:
    """Keep `fingerprint` as the inputs of the verified build (the only row), and the dbt invocation that built it."""
    with conn.transaction():
        conn.execute(RECORD_DDL)
        conn.execute(f"delete from {RECORD_SCHEMA}.{RECORD_TABLE}")
        conn.execute(
            f"insert into {RECORD_SCHEMA}.{RECORD_TABLE} (project_digest, tables, dbt_invocation_id) "
            "values (%s, %s, %s)",
            (fingerprint.project_digest, json.dumps(fingerprint.tables), dbt_invocation_id),
        )


def written_schemas(target_path: Path) -> set[str]:
    """The schemas a build writes: those of its models and seeds (from the invocation's manifest)."""
    manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    return {node["schema"] for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed")}


def moved_during_build(before: Fingerprint, after: Fingerprint, written: set[str]) -> list[str]:
    """Tables outside the build's own schemas that changed while it ran (a source still being written)."""
    locations = {**before.locations, **after.locations}
    return [name for name in before.changed_tables(after) if locations[name][0] not in written]
