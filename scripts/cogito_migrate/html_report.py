"""The HTML report of a `run` or a `verify`: one self-contained file (inline style, an inline SVG chart, no script,
no link out) that opens offline. Per client and entity the reconciliation's figures, a chart of migrated, held
and fallback rows per entity, the quarantine reasons with a few source ids each (ids only: never a value, so never
a secret or a password hash), and the latest audit row with its steps' timings."""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cogito_migrate import audit, database

if TYPE_CHECKING:  # verify writes this report
    from cogito_migrate.verify import Verification

# what verify says of rows not yet migrated (verify imports this module, so the sentence lives here)
NOT_YET_MIGRATED = ("not yet migrated: written in Backstage while or after the build read it, so not lost: "
                    "the next run brings them (after the freeze, the final run leaves none)")

BAR_COLOURS = {"migrated": "#2f7d4a", "held": "#b3401f", "fallback": "#d9a33b"}


def default_path(target_path: Path, kind: str, database_name: str) -> Path:
    """target/reports/<kind>-<database>-<UTC time>.html"""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return target_path / "reports" / f"{kind}-{database_name}-{stamp}.html"


def _table(headers: list[str], rows: list[list[Any]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(
            f"<td class=\"n\">{value:,}</td>" if isinstance(value, int) and i >= numeric_from
            else f"<td>{html.escape(str(value))}</td>"
            for i, value in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def chart(verification: Verification) -> str:
    """Horizontal stacked bars, one per entity: migrated as they are, held, migrated with a fallback (inline SVG)."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"migrated": 0, "held": 0, "fallback": 0})
    for row in verification.rows:
        totals[row.entity]["migrated"] += row.migrated_rows - row.fallback_rows
        totals[row.entity]["held"] += row.held_rows
        totals[row.entity]["fallback"] += row.fallback_rows
    width, bar, label = 560, 18, 150
    largest = max((sum(parts.values()) for parts in totals.values()), default=0) or 1
    shapes = []
    for i, (entity, parts) in enumerate(totals.items()):
        y, x = 10 + i * (bar + 10), label
        shapes.append(f'<text x="0" y="{y + 13}">{html.escape(entity)}</text>')
        for kind, value in parts.items():
            length = value / largest * width
            if value:
                shapes.append(f'<rect class="{kind}" x="{x:.1f}" y="{y}" width="{max(length, 1):.1f}" height="{bar}" '
                              f'fill="{BAR_COLOURS[kind]}"><title>{entity} {kind}: {value:,}</title></rect>')
            x += length
        shapes.append(f'<text x="{x + 6:.1f}" y="{y + 13}">{sum(parts.values()):,}</text>')
    height = 20 + len(totals) * (bar + 10)
    legend = " ".join(f'<span class="key" style="background:{colour}"></span>{kind}'
                      for kind, colour in BAR_COLOURS.items())
    return (f'<svg role="img" aria-label="rows per entity" width="{label + width + 80}" height="{height}" '
            f'font-size="12">{"".join(shapes)}</svg><p>{legend}</p>')


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #2f7d4a; } .bad { color: #b3401f; font-weight: bold; }
.key { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 1em; vertical-align: middle; }
"""


def render(kind: str, database_name: str, verification: Verification, reasons: list[audit.QuarantineReason],
           last_run: dict[str, Any] | None) -> str:
    status = ('<span class="ok">every client and entity reconciles</span>' if verification.ok else
              f'<span class="bad">{len(verification.mismatches)} client/entity pairs do not reconcile</span>')
    figures = _table(
        ["client", "entity", "source", "migrated", "held", "fallback", "deleted in source", "not yet migrated",
         "content", "status"],
        [[row.client, row.entity, row.source_rows, row.migrated_rows, row.held_rows, row.fallback_rows,
          row.deleted_in_source_rows, row.not_yet_migrated_rows, row.content, row.status]
         for row in verification.rows],
        numeric_from=2,
    )
    waiting = sum(row.not_yet_migrated_rows for row in verification.rows)
    if waiting:  # verify's sentence, so the report and the terminal say the same
        figures += f"<p>{waiting:,} rows {html.escape(NOT_YET_MIGRATED.split(': ', 1)[1])}.</p>"
    quarantine = _table(
        ["entity", "reason", "disposition", "rows", "e.g. source rows"],
        [[r.entity, r.reason, r.disposition, r.rows, ", ".join(r.sample_ids)] for r in reasons],
        numeric_from=3,
    ) if reasons else "<p>No open quarantine row.</p>"
    run = "<p>No run recorded.</p>"
    if last_run:
        run = _table(["run", "started", "finished", "outcome", "failed step", "tool", "dbt"],
                     [[str(last_run["id"]), f"{last_run['started_at']:%Y-%m-%d %H:%M:%S %Z}",
                       # none while the run goes on, or when it never ended
                       f"{last_run['finished_at']:%Y-%m-%d %H:%M:%S %Z}" if last_run["finished_at"] else "-",
                       last_run["outcome"],
                       last_run["failed_step"] or "-", last_run["tool_version"], last_run["dbt_version"] or "-"]])
        run += _table(["step", "ok", "seconds"],
                      [[step["step"], "yes" if step["ok"] else "NO", f"{step['seconds']:.1f}"]
                       for step in last_run["steps"] or []])
    written = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cogito-migrate {kind}: {html.escape(database_name)}</title>
<style>{STYLE}</style></head>
<body>
<h1>cogito-migrate {kind}: database {html.escape(database_name)}</h1>
<p>Written {written}. The reconciliation {html.escape(verification.provenance or "as the last build left it")}: {status}.</p>
<h2>Rows per entity</h2>
{chart(verification)}
<h2>Per client and entity</h2>
{figures}
<h2>Quarantine</h2>
{quarantine}
<h2>Latest run (events.migration_runs)</h2>
{run}
</body></html>
"""


def write(path: Path, kind: str, database_name: str, verification: Verification) -> Path:
    """Render the report from the database's quarantine and audit rows and write it to `path`."""
    with database.connect(database_name) as conn:
        reasons = audit.quarantine_reasons(conn)
        runs = audit.last_runs(conn, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(kind, database_name, verification, reasons, runs[0] if runs else None), encoding="utf-8")
    return path
