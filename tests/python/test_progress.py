"""The live progress of a dbt command (cogito_migrate.progress): counted from dbt's own events on a real build,
drawn only on a terminal; a run whose output is not a terminal prints its plain lines and nothing else."""

from __future__ import annotations

import io

import pytest

from cogito_migrate import progress
from cogito_migrate.dbt import run_dbt

pytestmark = pytest.mark.slow


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def template(migrated_template):
    return migrated_template(0.02, 31)  # read only


def test_progress_counts_every_node_and_the_rows_the_marts_wrote(template, copy_database, connect, tmp_path):
    name = copy_database(template.name, "progress")
    with connect(name) as conn:  # one client renamed in the target: the next build merges it back
        conn.execute("update client_mgmt.clients set name = 'renamed' where id = 101")
    counted = progress.BuildProgress("dbt build")
    result = run_dbt("build", "--select", "clients", "users", "--exclude-resource-type", "unit_test",
                     database_name=name, target_path=tmp_path, capture=True, callbacks=[counted.on_event])
    assert result.ok, result.stdout[-3000:]
    nodes = [node for node in result.result.result.results if node.node.resource_type != "operation"]  # no hooks
    assert counted.total == counted.done == len(nodes) > 2  # the two marts and their tests
    assert counted.failed == 0 and counted.running == {}
    merged = sum(int(node.adapter_response.get("rows_affected", 0)) for node in nodes
                 if node.node.resource_type == "model")
    assert counted.rows_written == merged == 1  # the renamed client, merged back
    assert counted.line().startswith(f"dbt build: {len(nodes)}/{len(nodes)} nodes, ")


def test_the_live_line_is_drawn_on_a_terminal_only():
    with progress.live(io.StringIO(), "dbt build") as shown:
        assert shown is None
    screen = Terminal()
    with progress.live(screen, "dbt build") as shown:
        assert shown is not None
        shown.total, shown.done, shown.running = 10, 4, {"model.x.turns": "turns"}
        assert shown.line().startswith("dbt build: 4/10 nodes, ") and shown.line().endswith("running turns")
    assert "dbt build: 4/10 nodes" in screen.getvalue()


def test_a_run_that_is_not_on_a_terminal_prints_plain_lines(template):
    assert "\x1b[" not in template.output and " nodes, " not in template.output
    assert "[5] build: ok in " in template.output
