"""`cogito-migrate verify`: the readable table, the exit codes, and what it says where, on hand-made
reconciliation rows (a table shaped like migration.reconciliation in a fresh database; no dbt needed).

The real reconciliation view against real migrations is exercised in test_reconciliation.py and test_audit.py.
"""

from __future__ import annotations

import argparse
import io

import pytest

from cogito_migrate import cli, verify

CREATE = """
    create schema migration;
    create table migration.reconciliation (
        client_id int, backstage_schema text, entity text, source_rows bigint, migrated_rows bigint,
        held_rows bigint, fallback_rows bigint, missing_rows bigint, changed_rows bigint,
        deleted_in_source_rows bigint, source_content_hash text, target_content_hash text, status text,
        mismatch_examples text, deleted_in_source_examples text,
        not_yet_migrated_rows bigint default 0, not_yet_migrated_examples text
    )
"""
INSERT = ("insert into migration.reconciliation values "
          "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
# rows below end with (not_yet_migrated_rows, not_yet_migrated_examples) = (0, None) unless they say otherwise
BALANCED = [
    (101, "dev", "turn", 10, 10, 0, 2, 0, 0, 0, "aa", "aa", "reconciled", None, None),
    (101, "dev", "user", 5, 4, 1, 0, 0, 0, 0, None, None, "reconciled", None, None),
    (None, None, "user", 3, 0, 3, 0, 0, 0, 0, None, None, "reconciled", None, None),
    (102, "bsa", "turn", 7, 7, 0, 0, 0, 0, 2, "bb", "bb", "deleted_in_source", None,
     "bsa.grp_con_avatar_turns.8, bsa.grp_con_avatar_turns.9"),
]
MISMATCHED = [
    (103, "conflict_club", "file_upload_vector", 11, 10, 0, 0, 1, 0, 0, "cc", "dd", "mismatch",
     "conflict_club.grp_con_upload_vectors.4 missing", None),
    (101, "dev", "participant_event", 9, 9, 0, 0, 0, 1, 0, "ee", "ff", "mismatch",
     "dev.participant_events.12 content differs", None),
]
# turns written in Backstage while the build read: 2 not yet migrated, status reconciled
MOVING = [
    (101, "dev", "turn", 12, 10, 0, 2, 0, 0, 0, "aa", "aa", "reconciled", None, None, 2,
     "dev.grp_topic_avatar_turns.11, dev.grp_topic_avatar_turns.12"),
]


def run_verify(database_name: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    verify.add_arguments(parser)
    out = io.StringIO()
    return verify.command(parser.parse_args(["--database", database_name, "--as-built"]), out=out), out.getvalue()


@pytest.fixture
def reconciliation_database(make_database, connect):
    def make(rows: list[tuple]) -> str:
        name = make_database("rec_verify")
        with connect(name) as conn:
            conn.execute(CREATE)
            with conn.cursor() as cursor:
                cursor.executemany(INSERT, [row if len(row) == 17 else (*row, 0, None) for row in rows])
        return name

    return make


def test_balanced_reconciliation_exits_zero_and_lists_deletions(reconciliation_database):
    code, output = run_verify(reconciliation_database(BALANCED))
    assert code == 0
    provenance, report, *lines = output.splitlines()
    assert provenance == "verify: the reconciliation as the last build computed it"
    assert report.startswith("report: ") and report.endswith(".html")
    assert lines[0].split() == ["client", "entity", "source", "migrated", "held", "fallback", "deleted", "in",
                                "source", "not", "yet", "migrated", "content", "status"]
    # rows without a client first, then by client and in entity order (user before turn)
    labels = [line.split("  ")[0] for line in lines[2:6]]
    assert labels == ["(no client)", "101 dev", "101 dev", "102 bsa"]
    assert lines[3].split()[2:] == ["user", "5", "4", "1", "0", "0", "0", "-", "reconciled"]
    assert lines[4].split()[2:] == ["turn", "10", "10", "0", "2", "0", "0", "ok", "reconciled"]
    assert ("deleted in Backstage since migrated, kept in the target: 102 bsa turn 2 "
            "(e.g. bsa.grp_con_avatar_turns.8, bsa.grp_con_avatar_turns.9)") in output
    assert "MISMATCH" not in output and "not yet migrated:" not in output
    assert lines[-1] == "verify: ok: 4 client/entity pairs reconcile (source = migrated + held, content hashes equal)"


def test_rows_not_yet_migrated_are_reported_apart_and_exit_zero(reconciliation_database):
    code, output = run_verify(reconciliation_database(MOVING))
    assert code == 0
    lines = output.splitlines()
    assert lines[4].split()[2:] == ["turn", "12", "10", "0", "2", "0", "2", "ok", "reconciled"]
    assert lines[-3:] == [
        "not yet migrated: 101 dev turn 2 (e.g. dev.grp_topic_avatar_turns.11, dev.grp_topic_avatar_turns.12)",
        "not yet migrated: written in Backstage while or after the build read it, so not lost: the next run brings "
        "them (after the freeze, the final run leaves none)",
        "verify: ok: 1 client/entity pairs reconcile (source = migrated + held + 2 not yet migrated, content hashes "
        "equal)",
    ]
    # a loss next to them is still a loss
    code, output = run_verify(reconciliation_database(MOVING + MISMATCHED))
    assert code == 1 and "1 neither migrated nor held" in output and "not yet migrated: 101 dev turn 2" in output


def test_mismatches_exit_one_and_name_client_entity_and_figures(reconciliation_database):
    code, output = run_verify(reconciliation_database(BALANCED + MISMATCHED))
    assert code == 1
    mismatches = [line for line in output.splitlines() if line.startswith("MISMATCH")]
    assert mismatches == [
        "MISMATCH 101 dev participant_event: source 9 = migrated 9 + held 0; 1 with other content; "
        "content hash ee != ff; e.g. dev.participant_events.12 content differs",
        "MISMATCH 103 conflict_club file_upload_vector: source 11 != migrated 10 + held 0; "
        "1 neither migrated nor held; content hash cc != dd; e.g. conflict_club.grp_con_upload_vectors.4 missing",
    ]
    assert "DIFFERS" in output
    assert output.splitlines()[-1] == "verify: FAILED: 2 of 6 client/entity pairs do not reconcile"


def test_database_without_a_reconciliation_exits_two_with_advice(make_database, capsys):
    code, output = run_verify(make_database("rec_verify_empty"))
    assert code == 2 and output == ""
    assert "migration.reconciliation does not exist: run `cogito-migrate run` first" in capsys.readouterr().err


def test_missing_database_exits_two(server, capsys):
    code, _ = run_verify("rec_verify_no_such_database")
    assert code == 2
    assert "database 'rec_verify_no_such_database' does not exist on PostgreSQL at" in capsys.readouterr().err


def test_verify_is_a_subcommand_of_the_command_line(reconciliation_database, capsys):
    name = reconciliation_database(MISMATCHED)
    assert cli.main(["verify", "--database", name, "--as-built"]) == 1
    assert "verify: FAILED: 2 of 2" in capsys.readouterr().out


def test_empty_reconciliation_is_not_a_failure():
    verification = verify.Verification(())
    assert verification.ok
    assert verify.summary(verification) == "verify: the reconciliation is empty (nothing was migrated)"
