"""The lenses over the migrated marts: every block gets a valid genome and attractor, the simulated topics' planted
vocabulary comes out as their attractor terms, every participant who spoke gets its patterns with a confidence that
follows the evidence, ids have their Python twin, a recomputation from scratch gives the same rows and a re-run over
unchanged marts recomputes no block, the neighbour search through its pivot index finds what comparing every pair
does, a re-run merges the blocks that moved into the neighbour candidates exactly as a full search finds them (and
keeps the pivot index as a rebuild makes it), and `cogito-migrate lens` answers the plan's analyzeTopic.

The figures themselves are checked against hand-made conversations worked out by hand: the unit tests beside the
lens models (models/intermediate/lenses/_int_lenses__models.yml), which also keep each client's words and
neighbours to itself. Isolation through the application role: test_isolation.py (it covers every target table).
"""

from __future__ import annotations

import argparse
import io
import json
import re

import psycopg
import pytest

from backstage_simulator import content
from cogito_migrate import database, ids, lens

pytestmark = pytest.mark.slow

GENOME_KEYS = {"lens", "turns", "speakers", "alternation_rate", "opened_by", "closed_by", "turn_length",
               "question_rate", "time", "tree", "z_scores", "stands_out"}
ATTRACTOR_KEYS = {"lens", "terms", "vectors", "drift", "first_third_spread", "last_third_spread", "movement",
                  "nearest_blocks"}
LENS_ROWS = """
    select b.block_id, b.client_id, b.metadata->>'original_topic_path' as topic_path, p.name as lens,
           l.id, l.lens_result, l.lens_embedding is not null as has_embedding,
           (select count(*) from conversation.block_turns bt where bt.block_id = b.block_id) as turn_count
    from conversation.blocks b
    join conversation.block_lens_version l on l.block_id = b.block_id
    join conversation.lens_prototypes p on p.prototype_id = l.lens_prototype_id
"""


@pytest.fixture(scope="module")
def migrated(migrated_template):
    return migrated_template(0.02, 31)  # read only


@pytest.fixture(scope="module")
def lens_rows(migrated) -> list[dict]:
    with database.connect(migrated.name) as conn:
        conn.row_factory = psycopg.rows.dict_row
        return conn.execute(LENS_ROWS).fetchall()


def test_every_block_has_a_genome_and_an_attractor_with_a_valid_document(migrated, lens_rows):
    with database.connect(migrated.name) as conn:
        blocks = conn.execute("select count(*) from conversation.blocks").fetchone()[0]
    by_lens = {"genome": [], "attractor": []}
    for row in lens_rows:
        by_lens[row["lens"]].append(row)
    assert len(by_lens["genome"]) == len(by_lens["attractor"]) == blocks
    for row in by_lens["genome"]:
        result = json.loads(row["lens_result"])
        assert set(result) == GENOME_KEYS and result["turns"]["total"] == row["turn_count"]
        assert not row["has_embedding"]
    movements = set()
    for row in by_lens["attractor"]:
        result = json.loads(row["lens_result"])
        assert set(result) == ATTRACTOR_KEYS
        assert all(term["count"] >= 2 for term in result["terms"])
        assert row["has_embedding"] == (result["vectors"] > 0)
        movements.add(result["movement"])
    # blocks without a real vector (legacy placeholders) are there; a single turn, no turn at all and comments only
    # are the unit tests' hand-made blocks
    assert "too few vectors" in movements and movements & {"converging", "diverging", "steady"}


def planted_words() -> dict[str, set[str]]:
    """Subtopic ltree label -> the words the simulator plants in its topics (its title and vocabulary)."""
    planted = {}
    for theme in content.THEMES:
        for subtopic in theme.subtopics:
            text = " ".join([subtopic.title, *subtopic.words]).lower()
            planted[subtopic.label.lower()] = {word for word in re.findall(r"\w+", text) if len(word) >= 3}
    return planted


def test_each_simulated_topic_has_its_planted_vocabulary_among_its_attractor_terms(lens_rows):
    planted = planted_words()
    checked, missed = 0, []
    for row in lens_rows:
        if row["lens"] != "attractor" or row["topic_path"] is None or row["turn_count"] < 2:
            continue
        words = next((planted[label] for label in row["topic_path"].lower().split(".") if label in planted), None)
        if words is None:
            continue
        checked += 1
        terms = {term["term"] for term in json.loads(row["lens_result"])["terms"]}
        if not terms & words:
            missed.append((row["topic_path"], sorted(terms)))
    assert checked > 20
    assert missed == []


def test_lens_ids_have_their_python_twin(migrated, lens_rows):
    with database.connect(migrated.name) as conn:
        prototypes = conn.execute("select name, prototype_id, client_id from conversation.lens_prototypes").fetchall()
    assert {name for name, _, _ in prototypes} == {"genome", "attractor"}
    assert all(prototype_id == ids.lens_prototype_uuid(name) and client is None for name, prototype_id, client in prototypes)
    with database.connect(migrated.name) as conn:
        types = conn.execute("select name, id from conversation.pattern_types").fetchall()
    assert len(types) == 6 and all(type_id == ids.pattern_type_uuid(name) for name, type_id in types)
    for row in lens_rows[:50]:
        assert row["id"] == ids.block_lens_uuid(row["client_id"], row["block_id"], row["lens"], 1)


PER_BLOCK_LENS_TABLES = ("int_lens_block_figures", "int_lens_block_words", "int_lens_block_centroids",
                         "int_lens_participant_blocks")
# what they compare with, to find the blocks to compute: computed afresh by every build that runs them
BLOCK_TURN_VERSIONS = "int_lens_block_turn_versions"


def test_recomputing_the_lenses_from_scratch_gives_the_same_rows(migrated, copy_database, dbt):
    copy = copy_database(migrated.name, "lens_again")
    hashes = ("select (select md5(string_agg(t::text, '|' order by t.id)) from conversation.block_lens_version t), "
              "(select md5(string_agg(t::text, '|' order by t.id)) from conversation.detected_patterns t)")
    with database.connect(copy) as conn:
        before = conn.execute(hashes).fetchone()
        for table in PER_BLOCK_LENS_TABLES:  # the incremental lens tables start over, as on a first build
            conn.execute(f"drop table migration_intermediate.{table}")
    result = dbt("run", "--select", *(f"{table}+" for table in PER_BLOCK_LENS_TABLES), database_name=copy)
    written = {r.node.name: r.adapter_response.get("rows_affected") for r in result.result.result.results}
    assert written["int_lens_block_figures"] > 0
    assert written["block_lens_version"] == 0 and written["detected_patterns"] == 0
    with database.connect(copy) as conn:
        assert conn.execute(hashes).fetchone() == before


def test_a_re_run_over_unchanged_marts_recomputes_no_block(migrated, copy_database, dbt):
    copy = copy_database(migrated.name, "lens_rerun")
    incremental = (*PER_BLOCK_LENS_TABLES, "int_lens_block_candidates")
    result = dbt("run", "--select", BLOCK_TURN_VERSIONS, *incremental, database_name=copy)
    written = {r.node.name: r.adapter_response.get("rows_affected") for r in result.result.result.results
               if r.node.name in incremental}
    assert written == dict.fromkeys(incremental, 0)


def test_a_changed_turn_recomputes_its_block_only(migrated, copy_database, dbt):
    copy = copy_database(migrated.name, "lens_delta")
    with database.connect(copy) as conn:
        block_id, turn_id, speakers = conn.execute(
            """
            select bt.block_id, min(bt.turn_id::text)::uuid, count(distinct t.participant_id)
            from conversation.block_turns bt join conversation.turns t on t.turn_id = bt.turn_id
            group by bt.block_id having count(*) >= 3 order by bt.block_id limit 1
            """
        ).fetchone()
        versions = "select block_id, xmin::text from migration_intermediate.int_lens_block_figures"
        before = set(conn.execute(versions).fetchall())
        # as a re-run does when Backstage edited the turn: the mart's row is rewritten
        conn.execute("update conversation.turns set content = content || ' Why?' where turn_id = %s", (turn_id,))
    result = dbt("run", "--select", BLOCK_TURN_VERSIONS, *PER_BLOCK_LENS_TABLES, database_name=copy)
    written = {r.node.name: r.adapter_response.get("rows_affected") for r in result.result.result.results
               if r.node.name in PER_BLOCK_LENS_TABLES}
    assert written == {"int_lens_block_figures": 1, "int_lens_block_words": 1, "int_lens_block_centroids": 1,
                       "int_lens_participant_blocks": speakers}
    with database.connect(copy) as conn:
        after = set(conn.execute(versions).fetchall())
    assert {block for block, _ in after - before} == {block_id}


CANDIDATES = "migration_intermediate.int_lens_block_candidates"
CENTROIDS = "migration_intermediate.int_lens_block_centroids"
# few candidates, so that the test's small clients have lists that do not hold every block
FEW_CANDIDATES = ("--vars", "{lens_neighbour_candidates: 2}")
# What moves between the runs, each kind of change a merge must handle, on blocks picked by a hash of their id:
# blocks turned around (they leave every list they were in), blocks taking another block's centroid (they enter its
# list at distance 0), blocks nudged, blocks gone, blocks without a vector now and new blocks.
CENTROID_CHANGES = f"""
    create temp table picks as
    select block_id, client_id, row_number() over (partition by client_id order by md5(block_id::text)) as n
    from {CENTROIDS} where centroid is not null;
    update {CENTROIDS} as c set centroid = c.centroid * array_fill(-1::real, array[1536])::vector
    from picks as p where p.block_id = c.block_id and p.n = 1;
    update {CENTROIDS} as c set centroid = o.centroid
    from picks as p join picks as q on q.client_id = p.client_id and q.n = 5 join {CENTROIDS} as o on o.block_id = q.block_id
    where p.block_id = c.block_id and p.n = 2;
    update {CENTROIDS} as c set centroid = c.centroid + o.centroid * array_fill(0.2::real, array[1536])::vector
    from picks as p join picks as q on q.client_id = p.client_id and q.n = p.n + 1 join {CENTROIDS} as o on o.block_id = q.block_id
    where p.block_id = c.block_id and p.n in (3, 4);
    delete from {CENTROIDS} as c using picks as p where p.block_id = c.block_id and p.n = 6;
    update {CENTROIDS} as c set centroid = null from picks as p where p.block_id = c.block_id and p.n = 7;
    insert into {CENTROIDS} (client_id, block_id, turn_count, vector_count, centroid)
    select c.client_id, gen_random_uuid(), 1, 1, c.centroid * array_fill(0.5::real, array[1536])::vector
    from {CENTROIDS} as c join picks as p on p.block_id = c.block_id where p.n = 8;
"""
FIRST_CANDIDATES = (f"select block_id, client_id, candidate_ids[1:2], candidate_distances[1:2] from {CANDIDATES} "
                    "order by block_id")
# A search's whole lists (twice the 2 candidates), and the same lists from comparing every pair of a client's blocks
SEARCHED_LISTS = f"select block_id, client_id, candidate_ids, candidate_distances from {CANDIDATES} order by block_id"
EVERY_PAIR = f"""
    with patterns as (
        select client_id, block_id, binary_quantize(centroid)::bit(1536) as pattern from {CENTROIDS}
        where centroid is not null
    )
    select searched.block_id, searched.client_id, coalesce(nearest.ids, '{{}}'), coalesce(nearest.distances, '{{}}')
    from patterns as searched
    cross join lateral (
        select array_agg(pair.block_id order by pair.distance, pair.block_id) as ids,
               array_agg(pair.distance order by pair.distance, pair.block_id) as distances
        from (
            select other.block_id, hamming_distance(searched.pattern, other.pattern)::integer as distance
            from patterns as other
            where other.client_id = searched.client_id and other.block_id <> searched.block_id
            order by distance, other.block_id
            limit 4
        ) as pair
    ) as nearest
    order by searched.block_id
"""
SEARCH = ("int_lens_block_pivot_distances", "int_lens_block_candidates")
PIVOT_INDEX = "migration_intermediate.int_lens_block_pivot_distances"
PIVOT_ROWS = f"select client_id, pivot_id, block_id, distance, sign_pattern::text from {PIVOT_INDEX} order by 2, 3"


def test_a_re_run_merges_moved_blocks_into_the_neighbour_candidates_as_a_full_search_would(
        migrated, copy_database, dbt):
    copy = copy_database(migrated.name, "lens_neighbours")
    with database.connect(copy) as conn:
        conn.execute(f"drop table {CANDIDATES}")
    dbt("run", "--select", *SEARCH, *FEW_CANDIDATES, database_name=copy)
    with database.connect(copy) as conn:
        blocks = conn.execute(f"select count(*) from {CANDIDATES} where not is_exhaustive").fetchone()[0]
        assert conn.execute(SEARCHED_LISTS).fetchall() == conn.execute(EVERY_PAIR).fetchall()
        conn.execute(CENTROID_CHANGES)
    result = dbt("run", "--select", *SEARCH, *FEW_CANDIDATES, database_name=copy)
    (merged,) = [r.adapter_response.get("rows_affected") for r in result.result.result.results
                 if r.node.name == "int_lens_block_candidates"]
    with database.connect(copy) as conn:
        after_merge = conn.execute(FIRST_CANDIDATES).fetchall()
        pivots_kept_up = conn.execute(PIVOT_ROWS).fetchall()
        conn.execute(f"drop table {CANDIDATES}, {PIVOT_INDEX}")
    dbt("run", "--select", *SEARCH, *FEW_CANDIDATES, database_name=copy)
    with database.connect(copy) as conn:
        searched = conn.execute(FIRST_CANDIDATES).fetchall()
        assert conn.execute(SEARCHED_LISTS).fetchall() == conn.execute(EVERY_PAIR).fetchall()
        # the changes hit the first blocks in the pivots' order: pivots turned around, gone, replaced
        assert conn.execute(PIVOT_ROWS).fetchall() == pivots_kept_up
    assert blocks > 20 and merged > 0
    assert after_merge == searched


@pytest.fixture(scope="module")
def pattern_rows(migrated) -> list[dict]:
    with database.connect(migrated.name) as conn:
        conn.row_factory = psycopg.rows.dict_row
        return conn.execute(
            """
            select d.id, d.client_id, d.participant_id, d.context_scope, d.confidence_score, d.pattern_data,
                   t.name as pattern
            from conversation.detected_patterns d join conversation.pattern_types t on t.id = d.pattern_type_id
            """
        ).fetchall()


def test_every_speaking_participant_has_its_patterns_with_confidence_from_evidence(migrated, pattern_rows):
    with database.connect(migrated.name) as conn:
        speakers = set(conn.execute(
            "select distinct t.client_id, t.participant_id from conversation.turns t "
            "join migration.migration_id_map m on m.cogito_id = t.turn_id"
        ).fetchall())
        clients = {row[0] for row in conn.execute("select distinct client_id from conversation.blocks")}
    participant_rows = [row for row in pattern_rows if row["context_scope"] == "participant"]
    patterns = {}
    for row in participant_rows:
        patterns.setdefault((row["client_id"], row["participant_id"]), set()).add(row["pattern"])
    assert patterns.keys() == speakers
    assert set(map(frozenset, patterns.values())) == {
        frozenset({"activity_rhythm", "conversational_role", "recurring_terms", "shaped_blocks"})}
    for row in participant_rows:
        if row["pattern"] == "conversational_role":
            turns = row["pattern_data"]["turns"]
            assert float(row["confidence_score"]) == round(turns / (turns + 10), 2)
    few = [row for row in participant_rows if row["pattern"] == "conversational_role"
           and row["pattern_data"]["turns"] <= 3]
    assert few and all(row["confidence_score"] <= 0.23 for row in few)
    assert {row["client_id"] for row in pattern_rows if row["pattern"] == "recurring_themes"} == clients
    for row in pattern_rows:
        subject = row["participant_id"] or "client"
        assert row["id"] == ids.detected_pattern_uuid(row["client_id"], subject, row["pattern"], 1)


def test_patterns_read_only_their_own_clients_words(migrated, pattern_rows):
    with database.connect(migrated.name) as conn:
        client_terms = {}
        for client_id, term in conn.execute(
                "select distinct client_id, term from migration_intermediate.int_lens_block_terms"):
            client_terms.setdefault(client_id, set()).add(term)
    for row in pattern_rows:
        if row["pattern"] == "recurring_terms":
            assert {t["term"] for t in row["pattern_data"]["terms"]} <= client_terms[row["client_id"]]
        if row["pattern"] == "recurring_themes":
            assert {t["term"] for t in row["pattern_data"]["themes"]} <= client_terms[row["client_id"]]


def run_lens(database_name: str, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    lens.add_arguments(parser)
    out = io.StringIO()
    return lens.command(parser.parse_args(["--database", database_name, *argv]), out=out), out.getvalue()


def test_lens_command_answers_analyze_topic(migrated, lens_rows, capsys):
    topic = next(row for row in lens_rows if row["topic_path"] and row["turn_count"] >= 3 and row["lens"] == "genome")
    code, printed = run_lens(migrated.name, "--client", str(topic["client_id"]), "--topic", topic["topic_path"])
    assert code == 0
    assert topic["topic_path"] in printed and "\ngenome\n" in printed and "\nattractor\n" in printed
    assert f"turns ({topic['turn_count']}, in order)" in printed

    code, printed = run_lens(migrated.name, "--client", str(topic["client_id"]), "--topic", topic["topic_path"], "--json")
    document = json.loads(printed)
    assert set(document) == {"traditional_view", "genome", "attractor"}
    orders = [turn["sequence_order"] for turn in document["traditional_view"]["turns"]]
    assert orders == list(range(1, topic["turn_count"] + 1))
    assert document["genome"]["turns"]["total"] == topic["turn_count"]

    # the client scopes the search: the block asked for through another client is not found
    other = 102 if topic["client_id"] != 102 else 101
    code, _ = run_lens(migrated.name, "--client", str(other), "--block", str(topic["block_id"]))
    assert code == 2
    assert run_lens(migrated.name, "--client", str(topic["client_id"]), "--block", str(topic["block_id"]))[0] == 0
    # an unknown path: the message suggests paths like it
    label = topic["topic_path"].rsplit(".", 1)[-1]
    code, _ = run_lens(migrated.name, "--client", str(topic["client_id"]), "--topic", "No.Such." + label)
    assert code == 2
    assert "paths like it:" in capsys.readouterr().err
