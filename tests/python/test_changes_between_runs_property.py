"""Random sequences of Backstage changes, interleaved with runs and with the application's own writes.

Hypothesis draws a few batches of changes (every kind of backstage_changes.py, in the topic layout, the
`topicpathid` variant and the legacy layout, plus the application writing as its own role); after each batch the
migration runs and the oracle checks every invariant: each current source turn exactly once, in the right block
and order; deleted rows kept and reported; Cogito's rows untouched; verify passing (the run's own step). After the
last batch an immediate re-build must write nothing. The build is the slow part, so one simulated database is
migrated once and each example starts from a copy of it (`create database ... template`).

The examples are derandomized so that CI always runs the same ones; CHANGES_PROPERTY_EXAMPLES=N and
CHANGES_PROPERTY_RANDOM=1 explore more (and a failure is shrunk to a minimal sequence then).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path

import backstage_changes as bc
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from psycopg import sql

from cogito_migrate import database

pytestmark = pytest.mark.slow

SCALE = 0.02
SEED = 31
EXPLORE = os.environ.get("CHANGES_PROPERTY_RANDOM") == "1"
EXAMPLES = int(os.environ.get("CHANGES_PROPERTY_EXAMPLES", "2"))  # each costs 2-3 runs

Step = Callable[[psycopg.Connection, bc.Tenant, int, int], bc.Change]
CHANGES: dict[str, Step] = {
    "delete_turn": lambda conn, tenant, n, m: bc.delete_turn(conn, tenant, n),
    "insert_comment": lambda conn, tenant, n, m: bc.insert_turn(conn, tenant, n, between=True),
    "append_turn": lambda conn, tenant, n, m: bc.insert_turn(conn, tenant, n, between=False),
    "edit_turn": lambda conn, tenant, n, m: bc.edit_turn(conn, tenant, n),
    "move_turn": bc.move_turn,
    "delete_container": lambda conn, tenant, n, m: bc.delete_container(conn, tenant, n),
    "delete_container_keep_turns": lambda conn, tenant, n, m: bc.delete_container(conn, tenant, n, with_turns=False),
    "rename_topic": lambda conn, tenant, n, m: bc.rename_topic(conn, tenant, n, m, move=False),
    "move_topic": lambda conn, tenant, n, m: bc.rename_topic(conn, tenant, n, m, move=True),
    "change_email": lambda conn, tenant, n, m: bc.change_person(conn, tenant, n, what="email"),
    "change_name": lambda conn, tenant, n, m: bc.change_person(conn, tenant, n, what="name"),
    "end_membership": lambda conn, tenant, n, m: bc.end_membership(conn, tenant, n),
    "delete_person": lambda conn, tenant, n, m: bc.delete_person(conn, tenant, n),
    "delete_upload": lambda conn, tenant, n, m: bc.delete_upload(conn, tenant, n),
    "delete_event": lambda conn, tenant, n, m: bc.delete_event(conn, tenant, n),
}
# turn changes in all three shapes of tenant; the rest where the simulated tables are uniform
TURN_CHANGES = {"delete_turn", "insert_comment", "append_turn", "edit_turn", "move_turn"}
ALL_SHAPES = ("dev", "bsa", "first_congregational")
COMMON_SHAPES = ("dev", "bsa")
APPLICATION = "application_writes"

steps = st.one_of(
    st.tuples(st.sampled_from(sorted(TURN_CHANGES)), st.sampled_from(ALL_SHAPES)),
    st.tuples(st.sampled_from(sorted(set(CHANGES) - TURN_CHANGES)), st.sampled_from(COMMON_SHAPES)),
    st.tuples(st.just(APPLICATION), st.just("dev")),
).flatmap(lambda kind: st.tuples(st.just(kind[0]), st.just(kind[1]), st.integers(0, 500), st.integers(0, 500)))
batches = st.lists(st.lists(steps, min_size=1, max_size=6), min_size=1, max_size=2)


class Base:
    """The simulated Backstage after its first run, and the oracle as that run left it."""

    def __init__(self, name: str, oracle: bc.Oracle, target: Path, copy_database) -> None:
        self.name, self.oracle, self.target = name, oracle, target
        self._copy_database = copy_database
        self.copies = 0

    def copy(self) -> str:
        self.copies += 1
        return self._copy_database(self.name, f"changes_copy{self.copies}")


@pytest.fixture(scope="module")
def base(migrated_template, copy_database, tmp_path_factory) -> Base:
    name = migrated_template(SCALE, SEED).name  # only copied, never changed
    target = tmp_path_factory.mktemp("changes_property_target")
    return Base(name, bc.migrated_oracle(name), target, copy_database)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not EXPLORE,
    database=None,
    phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if EXPLORE else [])],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plan=batches)
def test_any_sequence_of_changes_keeps_every_invariant(base, plan):
    name = base.copy()
    oracle = copy.deepcopy(base.oracle)
    for number, batch in enumerate(plan, start=1):
        with database.connect(name) as conn:
            tenants = {t.schema: t for t in bc.migrated_tenants(conn)}
            for kind, schema, n, m in batch:
                if kind == APPLICATION:
                    change = bc.write_as_application(name, oracle, n)
                else:
                    change = CHANGES[kind](conn, tenants[schema], n, m)
                    bc.remember_deleted(conn, oracle, change)
                note(f"batch {number}: {kind} in {schema}: {change.description}")
        bc.run_migration(name, base.target)
        with database.connect(name) as conn:
            oracle.check(conn, oracle.observe(conn))
    with database.connect(name) as conn:
        before = bc.target_digest(conn)
    assert bc.run_migration(name, base.target, always_build=True) == {}, "an immediate re-build wrote rows"
    with database.connect(name) as conn:
        assert bc.target_digest(conn) == before
    with database.connect("postgres") as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
