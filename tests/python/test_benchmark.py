"""`cogito-migrate benchmark` at a tiny scale: every part runs and does its job. Its times are never asserted
(a wall-clock limit fails on a busy machine); what each part did is."""

from __future__ import annotations

import json

import pytest

from cogito_migrate import benchmark

pytestmark = pytest.mark.slow

SCALE = 0.02
ROW_SAMPLE = 200


@pytest.fixture(scope="module")
def measured(make_database, dbt_target) -> benchmark.ScaleResult:
    name = make_database("benchmark")
    options = benchmark.BenchmarkOptions(SCALE, row_sample=ROW_SAMPLE, database_name=name,
                                         target_path=dbt_target(name), keep=True)
    return benchmark.measure(options)


def test_floor_copies_every_source_turn(measured):
    assert measured.turns > ROW_SAMPLE
    assert measured.floor.rows == measured.turns
    assert set(measured.floor.index_seconds) == {index.label for index in benchmark.FLOOR_INDEXES}


def test_runs_write_what_they_must(measured):
    assert measured.full.rows_written > measured.turns
    assert measured.noop.rows_written == 0 and measured.noop.build_skipped
    assert measured.noop_build.rows_written == 0 and not measured.noop_build.build_skipped
    assert measured.noop_build.phases["marts"] > 0
    assert measured.delta_turns > 0
    assert not measured.delta.build_skipped
    assert measured.delta.rows_written > 0


def test_the_build_is_split_into_phases(measured):
    for phase in ("staging", "intermediate", "marts", "lenses", "tests", "vector indexes"):
        assert measured.full.phases[phase] > 0, phase
    assert sum(measured.full.phases.values()) <= measured.full.steps["build"]
    # the migration alone, reported beside the targets: what is left without the vector indexes and the lenses
    assert 0 < measured.migration_alone < measured.full_without_vector_indexes < measured.full.seconds


def test_row_by_row_inserts_the_sample(measured):
    assert measured.row_by_row.turns == ROW_SAMPLE


def test_scratch_schemas_are_dropped(measured, connect):
    with connect(measured.database) as conn:
        left = conn.execute("select nspname from pg_namespace where nspname = any(%s)",
                            (list(benchmark.SCRATCH_SCHEMAS),)).fetchall()
    assert left == []


def test_figures_are_printed_and_written(measured, tmp_path):
    path = benchmark.write_json(tmp_path / "benchmark.json", [measured], {"seed": 42})
    document = json.loads(path.read_text())
    assert set(document) == {"generated_at", "settings", "targets", "floor_indexes", "fixed_cost", "scales",
                             "per_turn"}
    (scale,) = document["scales"]
    assert set(scale["ratios"]) >= set(benchmark.TARGETS)
    assert set(scale["targets_met"]) == set(benchmark.TARGETS)
    assert {"source", "after_full_run", "after"} == set(scale["size_bytes"])
    assert scale["peak_rss_kib"]["after"] >= scale["peak_rss_kib"]["after_full_run"] > 0
    assert scale["noop"]["rows_written"] == 0
    printed = benchmark.format_scale(measured)
    for label in ("floor (create table as)", "floor + indexes", "full run", "  staging", "  intermediate", "  marts",
                  "  indexes", "  tests", "  verify", "  other steps", "no-op re-run (build skipped)",
                  "  built anyway (--always-build)", "delta run (1%)", "  without vector indexes and lenses",
                  f"row-by-row (sample {ROW_SAMPLE})"):
        assert f"\n{label}" in printed, label
    assert "0 rows, as it must" in printed


def test_the_fixed_cost_bounds_each_target(measured, tmp_path):
    # the tiny run as its own fixed cost: its least full run is the run itself (plus the floor), so every bound
    # follows from the measured figures
    fixed = benchmark.FixedCost.of(measured)
    assert fixed.full_seconds == measured.full_without_vector_indexes
    assert fixed.rebuild_seconds == measured.noop_build.seconds
    bounds = fixed.bounds(measured)
    floor = measured.floor.copy_seconds
    assert bounds["least_full_over_floor"] == pytest.approx((measured.full_without_vector_indexes + floor) / floor)
    assert bounds["least_full_over_floor"] > measured.ratios()["full_over_floor"]
    assert bounds["least_rebuild_over_full"] == pytest.approx(measured.ratios()["noop_build_over_full"])
    assert bounds["least_delta_over_full"] == pytest.approx(measured.ratios()["delta_over_full"])
    assert bounds["most_row_by_row_over_full_per_turn"] < measured.ratios()["row_by_row_over_full_per_turn"]
    assert bounds["microseconds_per_turn_above_fixed_cost"] == 0
    # the room a target leaves beyond the least run, and what the run itself spent beyond it (nothing: it is it)
    assert bounds["full_room_seconds"] == pytest.approx(3 * floor - (measured.full_without_vector_indexes + floor))
    assert bounds["full_beyond_least_seconds"] == pytest.approx(-floor)
    assert bounds["delta_beyond_least_seconds"] == 0
    assert bounds["delta_room_seconds"] == pytest.approx(0.1 * measured.full.seconds - measured.delta.seconds)
    printed = benchmark.format_scale(measured, fixed)
    for label in ("fixed cost (full run at scale 0.02", "  least full run: fixed cost + floor",
                  "    this full run (w/o vector indexes) beyond it", "  least re-build (scale 0.02, nothing to write)",
                  "  least delta run (scale 0.02, the same tables grown)", "    this delta run beyond it",
                  "  most row-by-row can be slower"):
        assert f"\n{label}" in printed, label
    assert "us/turn above fixed cost" in benchmark.format_summary([measured], fixed)
    document = json.loads(benchmark.write_json(tmp_path / "benchmark.json", [measured], {}, fixed).read_text())
    assert document["fixed_cost"]["turns"] == measured.turns
    assert document["scales"][0]["bounds"] == pytest.approx(bounds)
    assert document["per_turn"][0]["microseconds_per_turn_above_fixed_cost"] == 0
