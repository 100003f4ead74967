"""`simulate --grow` adds a generation of new rows to a simulated Backstage database, exactly as its manifest says.

One small simulation (scale 0.05) is copied (CREATE DATABASE ... TEMPLATE) before it is grown twice, so the
copies start from the same bytes. Every check reads the database back and compares it with the state before
the growth: counts per table, ids, sequences, turn indexes, memberships by the spec's footprint rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import bcrypt
import psycopg
import pytest
from psycopg import sql

from backstage_simulator import MARK, SimulatorError, grow, simulate
from backstage_simulator.grow import BOOKKEEPING_SCHEMA, unit_counts
from cogito_migrate import database
from cogito_migrate.cli import main

TENANTS = {"dev": "topic", "first_congregational": "topic", "bsa": "legacy", "conflict_club": "legacy",
           "timethatremains": "legacy"}
BACKSTAGE = ("public", *TENANTS, "template")
TURNS = {"topic": "grp_topic_avatar_turns", "legacy": "grp_con_avatar_turns"}
UNITS = {"topic": "topic_paths", "legacy": "grp_cons"}
SEED = 11


def rows(conn: psycopg.Connection, query, *params) -> list[tuple]:
    return conn.execute(query, params or None).fetchall()


def ident(*names: str) -> str:
    return sql.Identifier(*names).as_string(None)


def tables(conn, schemas=BACKSTAGE) -> list[tuple[str, str]]:
    return rows(conn, "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
                      " and table_schema = any(%s) order by 1, 2", list(schemas))


def counts(name: str) -> dict[str, int]:
    with database.connect(name) as conn:
        return {f"{s}.{t}": rows(conn, f"select count(*) from {ident(s, t)}")[0][0] for s, t in tables(conn)}


def max_ids(name: str) -> dict[str, int]:
    """Largest id of every table with an `id` column."""
    with database.connect(name) as conn:
        with_id = rows(conn, "select table_schema, table_name from information_schema.columns where column_name = 'id'"
                             " and table_schema = any(%s) order by 1, 2", list(BACKSTAGE))
        return {f"{s}.{t}": rows(conn, f"select coalesce(max(id), 0) from {ident(s, t)}")[0][0] for s, t in with_id}


def unit_column(schema: str) -> str:
    return {"dev": "topic_id", "first_congregational": "topicpathid"}.get(schema, "grp_con_id")


def last_indexes(name: str) -> dict[str, dict]:
    """Per tenant: the unit key each turn names -> (max turn_index, count)."""
    with database.connect(name) as conn:
        return {schema: {key: (top, n) for key, top, n in rows(
            conn, f"select {unit_column(schema)}, max(turn_index), count(*) from {ident(schema, TURNS[layout])}"
                  f" group by 1")}
                for schema, layout in TENANTS.items()}


def memberships(name: str) -> set[tuple[str, int]]:
    """(schema, participant id) by the source spec's membership rule: any footprint in the schema."""
    found = set()
    with database.connect(name) as conn:
        for schema, layout in TENANTS.items():
            s = ident(schema)
            parts = [f"select participant_id::bigint from {s}.{t}" for t in (
                "participant_groups", "participant_avatars", "participant_llms", "participant_preferences",
                "participant_events")]
            parts.append(f"select created_by_participant_id from {s}.grp_templates")
            if layout == "topic":
                parts += [f"select participant_id from {s}.grp_topic_avatar_turns",
                          f"select created_by from {s}.topic_paths"]
            parts.append("select l.participant_id from public.participant_event_logs l join public.schemas x"
                         f" on x.id = l.schema_id where x.name = '{schema}'")
            found |= {(schema, r[0]) for r in rows(conn, "select id from public.participants where id in ("
                                                   + " union ".join(parts) + ")")}
    return found


def fingerprint(name: str) -> dict[str, str]:
    """md5 per table (bookkeeping included) over the md5 of every row's text form."""
    with database.connect(name) as conn:
        result = {}
        for schema, table in tables(conn, (*BACKSTAGE, BOOKKEEPING_SCHEMA)):
            query = ("select md5(coalesce(string_agg(h, '' order by h), '')) from"
                     f" (select md5(t::text) as h from {ident(schema, table)} t) x")
            result[f"{schema}.{table}"] = rows(conn, query)[0][0]
        return result


def copy_database(source: str, target: str) -> None:
    with database.connect("postgres") as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(target)))
        conn.execute(sql.SQL("create database {} template {}").format(sql.Identifier(target), sql.Identifier(source)))
        conn.execute(sql.SQL("comment on database {} is {}").format(sql.Identifier(target), sql.Literal(MARK)))


def drop(name: str) -> None:
    with database.connect("postgres") as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@dataclass
class Grown:
    name: str
    pristine: str  # a copy taken before any growth
    before: dict[str, int]
    after1: dict[str, int]
    after2: dict[str, int]
    ids_before: dict[str, int]
    ids_after1: dict[str, int]
    indexes_before: dict[str, dict]
    members_before: set[tuple[str, int]]
    members_after1: set[tuple[str, int]]
    fingerprint1: dict[str, str]
    first: dict
    second: dict


@pytest.fixture(scope="module")
def grown(make_database) -> Iterator[Grown]:
    name = make_database("grow")
    pristine = make_database("grow_pristine")
    simulate(name, scale=0.05, seed=5)
    copy_database(name, pristine)
    before, ids_before = counts(name), max_ids(name)
    indexes_before, members_before = last_indexes(name), memberships(name)
    first = grow(name, seed=SEED)
    after1, ids_after1, members_after1, fingerprint1 = counts(name), max_ids(name), memberships(name), fingerprint(name)
    second = grow(name, seed=SEED)
    yield Grown(name, pristine, before, after1, counts(name), ids_before, ids_after1, indexes_before, members_before,
                members_after1, fingerprint1, first, second)


@pytest.fixture(scope="module")
def db(grown) -> Iterator[psycopg.Connection]:
    with database.connect(grown.name) as conn:
        yield conn


def manifest_counts(manifest: dict) -> dict[str, int]:
    return {f"{schema}.{table}": n
            for schema, entry in manifest["schemas"].items() for table, n in entry["tables"].items()}


def test_each_growth_adds_exactly_the_manifest_rows(grown):
    for manifest, start, end in ((grown.first, grown.before, grown.after1), (grown.second, grown.after1, grown.after2)):
        added = manifest_counts(manifest)
        assert set(added) == set(start) == set(end)  # every Backstage table, none created or dropped
        assert {t: end[t] - start[t] for t in start} == added
        assert manifest["rows_added"] == sum(added.values())
        for table in ("public.participants", "public.file_uploads", "public.file_upload_vectors",
                      "public.participant_event_logs", "dev.topic_paths", "dev.file_uploads", "bsa.grp_cons",
                      "bsa.grp_con_uploads", "bsa.grp_con_upload_vectors", "bsa.participant_events",
                      "conflict_club.grp_con_avatar_turn_relationships"):
            assert added[table] > 0, table
        for schema, layout in TENANTS.items():
            assert added[f"{schema}.{TURNS[layout]}"] > 0
            assert added[f"{schema}.{UNITS[layout]}"] == len(manifest["units"][schema]["new"]) > 0
    assert grown.first["generation"] == 1 and grown.second["generation"] == 2


def test_default_amount_is_about_five_percent_and_linear(grown):
    turns_before = sum(grown.before[f"{s}.{TURNS[layout]}"] for s, layout in TENANTS.items())
    turns_added = sum(grown.first["schemas"][s]["tables"][TURNS[layout]] for s, layout in TENANTS.items())
    # scale 0.05 is tiny: each schema gets at least one new unit (~21 turns), so more than 5% here
    assert 0.03 * turns_before < turns_added < 0.2 * turns_before
    small, large = unit_counts(80_000, 4000, 0.05), unit_counts(80_000, 4000, 0.5)
    assert abs(large[0] / small[0] - 10) < 0.2 and abs(large[1] / small[1] - 10) < 0.2
    assert small[0] * 21 / (80_000 * 0.05) == pytest.approx(0.9, abs=0.05)
    with pytest.raises(ValueError):
        grow(grown.name, amount=0)


def test_turns_continue_existing_topics_and_conversations(db, grown):
    for schema, layout in TENANTS.items():
        units = grown.first["units"][schema]
        new_turns = units["turns_into_existing"]
        assert units["continued"] and new_turns
        table = ident(schema, TURNS[layout])
        if schema == "first_congregational":  # turns name the topic by its index text
            keys = dict(rows(db, "select id, index from first_congregational.topic_paths where id = any(%s)",
                             units["continued"]))
        else:
            keys = {u: u for u in units["continued"]}
        existing_units = {r[0] for r in rows(db, f"select id from {ident(schema, UNITS[layout])} where id <= %s",
                                             grown.ids_before.get(f"{schema}.{UNITS[layout]}", 0))}
        assert set(units["continued"]) <= existing_units
        assert not set(units["new"]) & existing_units
        added = rows(db, f"select {unit_column(schema)}, turn_index, turn_kind_id, message_type_id from {table}"
                         f" where id = any(%s) order by id", new_turns)
        assert len(added) == len(new_turns) and {r[0] for r in added} == set(keys.values())
        comments = 0
        for key in keys.values():
            old_max, old_count = grown.indexes_before[schema][key]
            mine = [r for r in added if r[0] == key]
            assert min(r[1] for r in mine) == int(old_max) + 1  # MAX + 1 (of the whole part)
            for _, index, kind, message_type in mine:
                assert index > old_max
                if kind == 3:  # a comment sits at the midpoint after the answer it follows
                    assert index != int(index) and message_type == 1
                    comments += 1
                else:
                    assert index == int(index)
            # the turns already there are untouched: as many as before, all with the old ids
            old_top = grown.ids_before[f"{schema}.{TURNS[layout]}"]
            assert rows(db, f"select count(*) from {table} where {unit_column(schema)} = %s and id <= %s",
                        key, old_top) == [(old_count,)]
        assert comments > 0, schema


def test_old_rows_are_untouched_and_turn_counts_of_old_units_grow_only_by_new_turns(db, grown):
    for schema, layout in TENANTS.items():
        table = ident(schema, TURNS[layout])
        old_total = grown.before[f"{schema}.{TURNS[layout]}"]
        top = grown.ids_before[f"{schema}.{TURNS[layout]}"]
        assert rows(db, f"select count(*) from {table} where id <= %s", top) == [(old_total,)]


def test_new_ids_continue_after_the_old_maximum(grown):
    with database.connect(grown.name) as conn:
        for table, top in grown.ids_before.items():
            newer = rows(conn, f"select count(*) from {ident(*table.split('.'))} where id > %s", top)[0][0]
            assert newer == grown.after2[table] - grown.before[table], table  # every new row of both growths
    # topic ids come from one sequence shared by both topic schemas
    topic_ids = grown.first["units"]["dev"]["new"] + grown.first["units"]["first_congregational"]["new"]
    before = (grown.ids_before["dev.topic_paths"], grown.ids_before["first_congregational.topic_paths"])
    assert min(topic_ids) > max(before)
    assert len(set(topic_ids)) == len(topic_ids)


def test_sequences_advanced_so_a_plain_insert_fits(db):
    serials = rows(db, """
        select format('%%I.%%I', n.nspname, c.relname), quote_ident(a.attname),
               pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname)
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where c.relkind = 'r' and a.attnum > 0 and not a.attisdropped and n.nspname = any(%s)
          and pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname) is not null""",
                   list(BACKSTAGE))
    assert len(serials) > 50
    for table, column, sequence in serials:
        ahead = rows(db, f"select nextval(%s) > coalesce((select max({column}) from {table}), 0)", sequence)[0][0]
        assert ahead, table
    assert rows(db, "select nextval('public.topic_paths_numeric_id_seq') > (select max(id) from ("
                    " select id from dev.topic_paths union all select id from first_congregational.topic_paths) x)"
                ) == [(True,)]
    with db.transaction(force_rollback=True):  # what the app would do next
        db.execute("insert into dev.grp_topic_avatar_turns (topic_id, avatar_id, turn_index, content_text)"
                   " values (1, 1, 1, 'plain insert')")
        db.execute("insert into bsa.grp_cons (name) values ('plain insert')")
        db.execute("insert into dev.topic_paths (path, index) values ('Plain.Insert', 'plain-insert')")
        db.execute("insert into public.participants (name, email, password) values ('P', 'plain@insert', 'x')")


def test_two_growths_add_different_rows(db, grown):
    first, second = grown.first, grown.second
    for schema in TENANTS:
        for key in ("new", "turns_into_existing"):
            assert not set(first["units"][schema][key]) & set(second["units"][schema][key])
    people = [{e["participant_id"] for e in m["passwords"]} for m in (first, second)]
    assert people[0] and people[1] and not people[0] & people[1]
    texts = [{r[0] for r in rows(db, "select content_text from dev.grp_topic_avatar_turns where id = any(%s)",
                                 m["units"]["dev"]["turns_into_existing"])} for m in (first, second)]
    assert texts[0] != texts[1]
    assert rows(db, f"select generation, seed from {ident(BOOKKEEPING_SCHEMA, 'generations')} order by 1") == [
        (1, SEED), (2, SEED)]
    assert first["secrets"] != second["secrets"]


def test_memberships_added_are_new_footprints(grown):
    added = grown.members_after1 - grown.members_before
    listed = {(schema, pid) for schema, pids in grown.first["memberships"].items() for pid in pids}
    assert added == listed
    assert grown.members_before <= grown.members_after1  # nobody loses a membership
    new_people = {e["participant_id"] for e in grown.first["passwords"]}
    assert {pid for _, pid in listed} >= new_people  # every new person belongs somewhere
    assert any(sum(pid == p for _, p in listed) > 1 for pid in new_people)  # someone joins several tenants
    joined = grown.first["joined_existing_people"]
    assert joined and all(j["participant_id"] not in new_people for j in joined)
    assert all((j["schema"], j["participant_id"]) not in grown.members_before for j in joined)


def test_new_passwords_and_secrets(db, grown):
    for manifest in (grown.first, grown.second):
        stored = dict(rows(db, "select id, password from public.participants where id = any(%s)",
                           [e["participant_id"] for e in manifest["passwords"]]))
        assert len(stored) == len(manifest["passwords"])
        for entry in manifest["passwords"]:
            value, shape, plaintext = stored[entry["participant_id"]], entry["shape"], entry["plaintext"]
            if shape in ("bcrypt_2b", "bcrypt_2a"):
                assert value.startswith("$2b$10$" if shape == "bcrypt_2b" else "$2a$10$")
                assert bcrypt.checkpw(plaintext.encode(), value.encode())
            elif shape == "double_bcrypt":
                assert value.startswith("$2b$10$") and not bcrypt.checkpw(plaintext.encode(), value.encode())
            else:
                assert value == plaintext
        emails = rows(db, "select email from public.participants where id = any(%s)",
                      [e["participant_id"] for e in manifest["passwords"]])
        assert sorted(e[0] for e in emails) == sorted(e["email"] for e in manifest["passwords"])
        details = " ".join(r[0] for r in rows(db, "select details::text from public.participant_event_logs"))
        passwords = " ".join(r[0] for r in rows(db, "select password from public.participants"))
        for value in manifest["secrets"]:
            assert value in details or value in passwords
        assert any(v.startswith("typed-pw-") for v in manifest["secrets"])


def test_new_uploads_are_linked_and_chunked(db, grown):
    for schema, layout in TENANTS.items():
        notices = rows(db, f"select id, content_text from {ident(schema, TURNS[layout])} where id > %s"
                           " and content_text like 'File uploaded: %%' and message_type_id = 1",
                       grown.ids_before[f"{schema}.{TURNS[layout]}"])
        assert notices, schema
        for turn_id, text in notices:
            upload_id = int(text.rsplit("(ID: ", 1)[1].rstrip(")"))
            if layout == "topic":
                found = rows(db, f"select bucket_name from {ident(schema, 'file_uploads')} where id = %s", upload_id)
            else:
                found = rows(db, f"select bucket_name from {ident(schema, 'grp_con_uploads')} where id = %s"
                                 " and turn_id = %s union all select bucket_name from public.file_uploads where id = %s"
                                 " and id > %s", upload_id, turn_id, upload_id, grown.ids_before["public.file_uploads"])
            assert found == [(schema,)], text
    # public rows of the growth name a legacy tenant in bucket_name; their chunks cover the whole file
    buckets = {r[0] for r in rows(db, "select bucket_name from public.file_uploads where id > %s",
                                  grown.ids_before["public.file_uploads"])}
    assert buckets and buckets <= {"bsa", "conflict_club", "timethatremains"}
    sizes = rows(db, """select bool_and(f.file_size = x.chars), count(*) from public.file_uploads f
        join (select file_upload_id, sum(length(content_text)) chars from public.file_upload_vectors where id > %s
              group by 1) x on x.file_upload_id = f.id""", grown.ids_before["public.file_upload_vectors"])
    assert sizes[0][0] is True and sizes[0][1] > 0


def test_event_logs_of_both_kinds(db, grown):
    new_people = [e["participant_id"] for e in grown.first["passwords"]]
    scoped = rows(db, "select count(*) from public.participant_event_logs l join public.schemas s on s.id = l.schema_id"
                      " where l.participant_id = any(%s)", new_people)[0][0]
    assert scoped >= len(new_people)
    tenant_events = sum(grown.first["schemas"][s]["tables"]["participant_events"] for s in TENANTS)
    assert tenant_events > 0


def test_same_start_and_seed_give_identical_data(grown):
    copy = grown.pristine + "_again"
    try:
        copy_database(grown.pristine, copy)
        manifest = grow(copy, seed=SEED)
        assert fingerprint(copy) == grown.fingerprint1
        assert {k: v for k, v in manifest.items() if k != "database"} == {
            k: v for k, v in grown.first.items() if k != "database"}
        copy_database(grown.pristine, copy)
        grow(copy, seed=SEED + 1)
        other = fingerprint(copy)
        changed = {t for t in other if other[t] != grown.fingerprint1[t]}
        assert {"public.participants", "dev.grp_topic_avatar_turns", "bsa.grp_con_avatar_turns"} <= changed
    finally:
        drop(copy)


def test_refuses_a_database_the_simulator_did_not_make(make_database):
    name = make_database("grow_foreign")
    with database.connect(name) as conn:
        conn.execute("create table precious (id int)")
    with pytest.raises(SimulatorError, match="not made by the simulator"):
        grow(name)
    with database.connect(name) as conn:
        assert rows(conn, "select count(*) from pg_namespace where nspname = %s", BOOKKEEPING_SCHEMA) == [(0,)]
        assert rows(conn, "select count(*) from precious") == [(0,)]
    with pytest.raises(SimulatorError, match="does not exist"):
        grow("grow_no_such_database_here")


def test_cli_grow_prints_the_manifest(grown, capsys):
    copy = grown.pristine + "_cli"
    try:
        copy_database(grown.pristine, copy)
        before = counts(copy)
        assert main(["simulate", "--grow", "--seed", "3", "--amount", "0.1", "--database", copy]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed["database"] == copy and printed["generation"] == 1 and printed["amount"] == 0.1
        after = counts(copy)
        assert {t: after[t] - before[t] for t in before} == manifest_counts(printed)
        assert main(["simulate", "--grow", "--database", "grow_no_such_database_here"]) == 2
    finally:
        drop(copy)
