"""The HTML report every `run` and `verify` writes (cogito_migrate.html_report): one file that opens offline, whose
figures are the reconciliation's, with quarantine reasons and source ids but never a secret or a password; opened in
a headless browser, its chart is drawn to scale and the figures it shows are verify's."""

from __future__ import annotations

import contextlib
import io
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cogito_migrate import cli, database, verify

pytestmark = pytest.mark.slow


class Tables(HTMLParser):
    """The text of every table cell, per table, per row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(text: str) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(text)
    return parser.tables


@pytest.fixture(scope="module")
def template(migrated_template):
    return migrated_template(0.02, 31)  # read only


@pytest.fixture(scope="module")
def run_report_path(template) -> Path:
    printed = re.search(r"^report: (.+\.html)$", template.output, re.MULTILINE)
    assert printed, template.output[-2000:]
    return Path(printed.group(1))


@pytest.fixture(scope="module")
def run_report(run_report_path) -> str:
    return run_report_path.read_text(encoding="utf-8")


def test_the_run_writes_a_report_that_opens_offline(run_report):
    assert run_report.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?:|src=|href=|<script|<link|@import", run_report)  # nothing to fetch
    assert "<svg" in run_report and "<rect" in run_report  # the chart, drawn inline


def test_the_report_s_figures_are_the_reconciliation_s(run_report, template):
    with database.connect(template.name) as conn:
        verification = verify.read_reconciliation(conn)
    figures = tables(run_report)[0]
    assert figures[0][:5] == ["client", "entity", "source", "migrated", "held"]
    expected = [[row.client, row.entity, f"{row.source_rows:,}", f"{row.migrated_rows:,}", f"{row.held_rows:,}",
                 f"{row.fallback_rows:,}", f"{row.deleted_in_source_rows:,}", f"{row.not_yet_migrated_rows:,}",
                 row.content, row.status]
                for row in verification.rows]
    assert figures[1:] == expected and len(expected) > 20
    chart_total = sum(int(value.replace(",", "")) for value in re.findall(r'">([\d,]+)</text>', run_report))
    assert chart_total == sum(row.source_rows for row in verification.rows)


def test_quarantine_reasons_come_with_source_ids_and_no_secret(run_report, template):
    with database.connect(template.name) as conn:
        open_rows = conn.execute(
            "select entity, reason, disposition, count(*) from migration.quarantine where status = 'open' "
            "group by 1, 2, 3 order by 1, 2, 3").fetchall()
    quarantine = tables(run_report)[1]
    assert [(r[0], r[1], r[2], int(r[3].replace(",", ""))) for r in quarantine[1:]] == open_rows and open_rows
    assert all(re.fullmatch(r"[\w.]+\.\d+(, [\w.]+\.\d+)*", row[4]) for row in quarantine[1:])
    secrets = template.manifest["secrets"] + [p["plaintext"] for p in template.manifest["passwords"] if p["plaintext"]]
    assert secrets and not [secret for secret in secrets if secret in run_report]
    assert "$2a$" not in run_report and "$2b$" not in run_report


def test_verify_writes_its_report_where_asked(template, tmp_path):
    path = tmp_path / "verify.html"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main(["verify", "--database", template.name, "--as-built", "--report", str(path)]) == 0
    assert f"report: {path}" in printed.getvalue()
    assert "cogito-migrate verify" in path.read_text(encoding="utf-8")


CHART_WIDTH = 560  # px for the largest entity's bar (html_report.chart)
# What the browser shows: the chart's bars (their tooltip and drawn size), its labels, and the figures table.
SHOWN_JS = """() => {
    const chart = document.querySelector('svg[aria-label="rows per entity"]');
    const box = chart.getBoundingClientRect();
    return {
        chart: [box.width, box.height],
        bars: Array.from(chart.querySelectorAll('rect')).map(bar => {
            const drawn = bar.getBoundingClientRect();
            return [bar.querySelector('title').textContent, drawn.width, drawn.height];
        }),
        labels: Array.from(chart.querySelectorAll('text')).map(text => text.textContent),
        figures: Array.from(document.querySelector('table').rows).map(row =>
            Array.from(row.cells).map(cell => cell.innerText.trim())),
    };
}"""


def test_in_a_browser_the_chart_is_drawn_to_scale_and_the_figures_are_verify_s(run_report_path, template, browser,
                                                                                tmp_path):
    verification = verify.verify(template.name)  # as the run's build computed it, which its report shows
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(run_report_path.as_uri())
    shown = page.evaluate(SHOWN_JS)
    screenshot = tmp_path / "report.png"
    page.screenshot(path=screenshot, full_page=True)
    print("screenshot:", screenshot)

    parts: dict[str, dict[str, int]] = defaultdict(lambda: {"migrated": 0, "held": 0, "fallback": 0})
    for row in verification.rows:
        parts[row.entity]["migrated"] += row.migrated_rows - row.fallback_rows  # migrated as they are
        parts[row.entity]["held"] += row.held_rows
        parts[row.entity]["fallback"] += row.fallback_rows
    expected = {(entity, kind): value for entity, kinds in parts.items() for kind, value in kinds.items() if value}
    bars = {}
    for title, width, height in shown["bars"]:
        entity, kind, value = re.fullmatch(r"(\S+) (migrated|held|fallback): ([\d,]+)", title).groups()
        bars[(entity, kind)] = (int(value.replace(",", "")), width, height)
    assert {key: value for key, (value, _, _) in bars.items()} == expected and len(expected) > 5
    largest = max(sum(kinds.values()) for kinds in parts.values())
    for value, width, height in bars.values():  # drawn to scale (at least 1 px), none empty
        assert height > 0 and width == pytest.approx(max(value / largest * CHART_WIDTH, 1), abs=0.6)
    assert shown["chart"][0] > CHART_WIDTH and shown["chart"][1] > 0
    totals = {entity: 0 for entity in parts}
    for row in verification.rows:
        totals[row.entity] += row.source_rows  # each bar's label: migrated + held, the source rows when reconciled
    assert shown["labels"] == [text for entity, total in totals.items() for text in (entity, f"{total:,}")]

    assert shown["figures"][0][:5] == ["client", "entity", "source", "migrated", "held"]
    assert shown["figures"][1:] == [
        [row.client, row.entity, f"{row.source_rows:,}", f"{row.migrated_rows:,}", f"{row.held_rows:,}",
         f"{row.fallback_rows:,}", f"{row.deleted_in_source_rows:,}", f"{row.not_yet_migrated_rows:,}",
         row.content, row.status]
        for row in verification.rows]
