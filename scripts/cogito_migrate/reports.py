"""What the migration wrote: per-client counts read from the Cogito target tables, what one run changed,
and the plain-text tables the command line prints (also used by `cogito-migrate verify`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from cogito_migrate import vocabulary

# client_mgmt.clients is counted too, as `client`: the client's own row, keyed by its id (it has no client_id).
CLIENT = ("client", "client_mgmt.clients", "id")


def counted_tables(vocab: vocabulary.Vocabulary | None = None) -> tuple[tuple[str, str, str], ...]:
    """(entity, Cogito table, column holding the client id), in report order: the client, then the vocabulary's
    entities."""
    entities = (vocab or vocabulary.load()).entities
    return (CLIENT, *((entity.name, entity.cogito_table, "client_id") for entity in entities))


@dataclass(frozen=True)
class ClientCounts:
    """Rows per client and entity. `None` as a client id collects rows without a client (events only)."""

    counts: dict[int | None, dict[str, int]]
    tables: dict[str, str]  # entity -> its Cogito table, in report order
    client_names: dict[int, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # entities whose target table does not exist (yet)

    @property
    def entities(self) -> tuple[str, ...]:
        return tuple(self.tables)

    def count(self, client_id: int | None, entity: str) -> int | None:
        """Rows of that entity for that client; None when the entity's table is missing."""
        if entity in self.missing:
            return None
        return self.counts.get(client_id, {}).get(entity, 0)

    def total(self, entity: str) -> int | None:
        if entity in self.missing:
            return None
        return sum(by_entity.get(entity, 0) for by_entity in self.counts.values())


def _existing_tables(conn: psycopg.Connection, tables: list[str]) -> set[str]:
    rows = conn.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema || '.' || table_name = any(%s)",
        (tables,),
    ).fetchall()
    return {row[0] for row in rows}


def client_counts(conn: psycopg.Connection, vocab: vocabulary.Vocabulary | None = None) -> ClientCounts:
    """Count every target table per client (one grouped query per existing table); missing tables are listed."""
    counted = counted_tables(vocab)
    existing = _existing_tables(conn, [table for _, table, _ in counted])
    counts: dict[int | None, dict[str, int]] = {}
    missing = []
    for entity, table, client_column in counted:
        if table not in existing:
            missing.append(entity)
            continue
        query = sql.SQL("select {column}, count(*) from {table} group by {column}").format(
            column=sql.Identifier(client_column), table=sql.Identifier(*table.split("."))
        )
        for client_id, rows in conn.execute(query).fetchall():
            counts.setdefault(client_id, {})[entity] = rows
    names: dict[int, str] = {}
    if "client" not in missing:
        names = dict(conn.execute("select id, name from client_mgmt.clients").fetchall())
    return ClientCounts(counts=counts, tables={entity: table for entity, table, _ in counted}, client_names=names,
                        missing=tuple(missing))


def format_counts(report: ClientCounts) -> str:
    """A plain-text table: one line per client (plus rows without a client), a total line, missing tables."""
    header = ["client_id name", *report.entities]
    client_ids = sorted((c for c in report.counts if c is not None))
    lines: list[list[str]] = []

    def cells(values: list[int | None]) -> list[str]:
        return ["missing" if value is None else f"{value:,}" for value in values]

    for client_id in client_ids:
        label = f"{client_id} {report.client_names.get(client_id, '(not in client_mgmt.clients)')}"
        lines.append([label, *cells([report.count(client_id, e) for e in report.entities])])
    if None in report.counts:
        lines.append(["(no client)", *cells([report.count(None, e) for e in report.entities])])
    lines.append(["total", *cells([report.total(e) for e in report.entities])])

    output = format_table(header, lines[:-1], footer=lines[-1]).splitlines()
    if report.missing:
        tables = ", ".join(report.tables[e] for e in report.missing)
        output.append(f"missing target tables (not built yet): {tables}")
    return "\n".join(output)


def format_table(
    header: list[str], rows: list[list[str]], footer: list[str] | None = None, left_columns: int = 1
) -> str:
    """Columns padded to their widest cell: the first `left_columns` left-aligned (labels), the rest right-aligned."""
    everything = [header, *rows, *([footer] if footer else [])]
    widths = [max(len(row[i]) for row in everything) for i in range(len(header))]
    rule = "  ".join("-" * width for width in widths)

    def render(row: list[str]) -> str:
        return "  ".join(
            cell.ljust(widths[i]) if i < left_columns else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()

    output = [render(header), rule, *(render(row) for row in rows)]
    if footer:
        output += [rule, render(footer)]
    return "\n".join(output)


def format_rows_written(rows_written: dict[str, int] | None) -> str:
    """One line saying what a run changed in the target: the total, then each table that changed.

    None means the figures are unknown (the build did not report them); an empty or all-zero dict means the run
    changed nothing, which is what a second run over an unchanged source must show.
    """
    if rows_written is None:
        return "rows written: unknown (dbt reported no results)"
    total = sum(rows_written.values())
    if total == 0:
        return "rows written: 0 (the target already matched the source)"
    changed = ", ".join(f"{table} {count:,}" for table, count in sorted(rows_written.items()) if count)
    return f"rows written: {total:,} ({changed})"
