"""`cogito-migrate lens --client ID (--topic PATH | --block UUID) [--json]`: the plan's `analyzeTopic`.

Answers `analyzeTopic(topicPath, clientId)` -> `{traditional_view: block, genome, attractor}` from what the migration
wrote: the block (found the way the application finds it: `metadata->>'client_id'` and `original_topic_path`) with
its turns in order, and its genome and attractor lens results from `conversation.block_lens_version`. A legacy
conversation has no topic path: `--block` names it by its uuid. Every query is scoped to the client asked for.
Exit 2 when the block or its lenses cannot be found (the message says why and suggests paths).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import dataclass
from typing import Any, TextIO

import psycopg
from psycopg.rows import dict_row

from cogito_migrate import database

LENSES = ("genome", "attractor")
SUGGESTIONS = 5


class LensError(RuntimeError):
    """The block or its lens results are not there; the message says what to do."""


@dataclass(frozen=True)
class TopicAnalysis:
    block: dict[str, Any]
    turns: list[dict[str, Any]]
    genome: dict[str, Any]
    attractor: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The shape of the plan's analyzeTopic."""
        return {
            "traditional_view": {"block": self.block, "turns": self.turns},
            "genome": self.genome,
            "attractor": self.attractor,
        }


BLOCK_COLUMNS = """
    block_id::text, client_id, name, block_type, parent_block_id::text, created_at,
    metadata->>'original_topic_path' as topic_path
"""


def _find_block(conn: psycopg.Connection, client_id: int, topic: str | None, block: str | None) -> dict[str, Any]:
    if block is not None:
        found = conn.execute(
            f"select {BLOCK_COLUMNS} from conversation.blocks where client_id = %s and block_id::text = %s",
            (client_id, block),
        ).fetchone()
        if found is None:
            raise LensError(f"no block {block} in client {client_id}")
        return found
    found = conn.execute(
        f"""
        select {BLOCK_COLUMNS} from conversation.blocks
        where metadata->>'client_id' = %s and metadata->>'original_topic_path' = %s
        """,
        (str(client_id), topic),
    ).fetchone()
    if found is not None:
        return found
    last_label = (topic or "").rsplit(".", 1)[-1]
    similar = [row["topic_path"] for row in conn.execute(
        """
        select metadata->>'original_topic_path' as topic_path from conversation.blocks
        where client_id = %s and metadata->>'original_topic_path' ilike %s
        order by 1 limit %s
        """,
        (client_id, f"%{last_label}%", SUGGESTIONS),
    )]
    hint = f"; paths like it: {', '.join(similar)}" if similar else ""
    raise LensError(f"no block with topic path {topic!r} in client {client_id}{hint}")


def analyze_topic(
    database_name: str, client_id: int, topic: str | None = None, block: str | None = None
) -> TopicAnalysis:
    """The block, its turns in order and its lens results; LensError when any is missing."""
    try:
        conn = database.connect(database_name)
    except database.DatabaseError as exc:
        raise LensError(str(exc)) from None
    conn.row_factory = dict_row
    with conn:
        try:
            found = _find_block(conn, client_id, topic, block)
            turns = conn.execute(
                """
                select bt.sequence_order, t.turn_id::text, t.timestamp, t.source_type, p.name as speaker,
                       p.type as speaker_type, t.content
                from conversation.block_turns as bt
                join conversation.turns as t on t.turn_id = bt.turn_id
                join conversation.participants as p on p.id = t.participant_id
                where bt.client_id = %s and bt.block_id = %s
                order by bt.sequence_order
                """,
                (client_id, found["block_id"]),
            ).fetchall()
            results = {row["name"]: json.loads(row["lens_result"]) for row in conn.execute(
                """
                select prototype.name, lens.lens_result
                from conversation.block_lens_version as lens
                join conversation.lens_prototypes as prototype on prototype.prototype_id = lens.lens_prototype_id
                where lens.client_id = %s and lens.block_id = %s and lens.applied_by = 'cogito-migrate'
                """,
                (client_id, found["block_id"]),
            )}
        except psycopg.errors.UndefinedTable as exc:
            raise LensError(f"no lens tables here ({exc.diag.message_primary}): run `cogito-migrate run` first") from None
    missing = [lens for lens in LENSES if lens not in results]
    if missing:
        raise LensError(f"block {found['block_id']} has no {' or '.join(missing)} result: run `cogito-migrate run`")
    return TopicAnalysis(found, turns, results["genome"], results["attractor"])


def _figure(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def format_genome(genome: dict[str, Any]) -> list[str]:
    turns, speakers, length, time = genome["turns"], genome["speakers"], genome["turn_length"], genome["time"]
    z_scores = genome.get("z_scores", {})
    outstanding = ", ".join(f"{name} (z {z_scores[name]:+})" for name in genome["stands_out"]) or "nothing"
    return [
        "genome",
        f"  turns        {turns['total']} ({turns['human_input']} human_input, {turns['ai_response']} ai_response, "
        f"{turns['comment']} comment); opened by {genome['opened_by'] or '-'}, closed by {genome['closed_by'] or '-'}",
        f"  speakers     {speakers['count']} (entropy {_figure(speakers['entropy_bits'])} bits); "
        f"alternation rate {_figure(genome['alternation_rate'])}",
        f"  turn length  mean {_figure(length['mean'])}, median {_figure(length['median'])}, p90 {_figure(length['p90'])} "
        f"characters; question rate {_figure(genome['question_rate'])}",
        f"  time         span {_figure(time['span_seconds'])} s; gaps median {_figure(time['median_gap_seconds'])} s, "
        f"p90 {_figure(time['p90_gap_seconds'])} s",
        f"  tree         depth {genome['tree']['depth']}, {genome['tree']['children']} child block(s)",
        f"  stands out   {outstanding} (|z| >= 2 among the client's blocks)",
    ]


def format_attractor(attractor: dict[str, Any]) -> list[str]:
    terms = ", ".join(f"{term['term']} ({term['count']})" for term in attractor["terms"]) or "none recurring"
    nearest = ", ".join(f"{block['name']} ({block['distance']})" for block in attractor["nearest_blocks"]) or "-"
    return [
        "attractor",
        f"  terms        {terms}",
        f"  movement     {attractor['movement']} over {attractor['vectors']} vectors (drift {_figure(attractor['drift'])}; "
        f"spread {_figure(attractor['first_third_spread'])} -> {_figure(attractor['last_third_spread'])})",
        f"  nearest      {nearest}",
    ]


def format_analysis(analysis: TopicAnalysis, shown_turns: int = 20) -> str:
    """The block, its first turns, its genome and its attractor, for a terminal."""
    block = analysis.block
    lines = [
        f"block {block['name']!r} ({block['block_type']}) of client {block['client_id']}: {block['block_id']}",
        f"  topic path   {block['topic_path'] or '(none: a legacy conversation)'}",
        f"turns ({len(analysis.turns)}, in order)",
    ]
    for turn in analysis.turns[:shown_turns]:
        text = textwrap.shorten(" ".join(turn["content"].split()), width=90, placeholder=" ...")
        lines.append(f"  {turn['sequence_order']:>4}  {turn['timestamp']:%Y-%m-%d %H:%M}  {turn['source_type']:<11}  "
                     f"{turn['speaker']}: {text}")
    if len(analysis.turns) > shown_turns:
        lines.append(f"  ... {len(analysis.turns) - shown_turns} more (--turns N, or --json for all)")
    return "\n".join([*lines, *format_genome(analysis.genome), *format_attractor(analysis.attractor)])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", help="the migrated database (default: PGDATABASE or cogito)")
    parser.add_argument("--client", type=int, required=True, help="the Cogito client id (e.g. 101)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--topic", help="the topic path, as in Backstage (e.g. Bible-Study.Lost-Christianities)")
    which.add_argument("--block", help="the block's uuid (a legacy conversation has no topic path)")
    parser.add_argument("--json", action="store_true", help="print analyzeTopic's JSON document instead")
    parser.add_argument("--turns", type=int, default=20, help="turns to print on a terminal (default 20; JSON has all)")


def command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    database_name = args.database or database.server_address().database
    try:
        analysis = analyze_topic(database_name, args.client, topic=args.topic, block=args.block)
    except LensError as exc:
        print(f"lens: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(analysis.as_json(), indent=2, default=str), file=out)
    else:
        print(format_analysis(analysis, args.turns), file=out)
    return 0
