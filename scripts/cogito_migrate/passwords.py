"""The password step: carry Backstage's bcrypt hashes into `backstage_restricted.carried_passwords`.

Runs before `dbt build`; dbt reads the table as the source `migration.carried_passwords`.

Rules (docs: cogito-target.md, "Passwords"):
- bcrypt `$2a$` hashes are carried unchanged; `$2b$` and `$2y$` are the same algorithm and are carried with the
  prefix rewritten to `$2a$` (pgcrypto's crypt(), which Cogito's login uses, verifies only `$2a$`).
- Other bcrypt variants (`$2$`, `$2x$`) hash some passwords differently from `$2a$`, so no rewrite is safe: the user
  must reset. A double-hashed value looks like any bcrypt hash and is carried like one.
- Plaintext and empty values never reach a table: the hash is NULL and the status `reset_required`. With
  `hash_plaintext=True` a non-empty plaintext gets a fresh bcrypt `$2a$` hash (cost 10) instead; an empty value
  always requires a reset (hashing it would make a blank password valid).

The plaintext exists only inside `carry_one` and the rows read from the source: it is never printed, logged,
stored or put into an exception message.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import bcrypt
import psycopg

from cogito_migrate import database

SCHEMA = "backstage_restricted"
TABLE = "carried_passwords"
BCRYPT_COST = 10
# bcrypt uses the first 72 bytes of a password (node-bcrypt and pgcrypto truncate; the bcrypt wheel refuses more).
BCRYPT_MAX_BYTES = 72

SHAPES = ("bcrypt_2a", "bcrypt_2b", "bcrypt_2y", "bcrypt_other", "plaintext", "empty")
STATUSES = ("carried", "carried_rewritten", "hashed_from_plaintext", "reset_required")

# A modular-crypt bcrypt hash: $2<minor>$<2-digit cost>$<22 salt + 31 hash characters of bcrypt's base64>.
BCRYPT_PATTERN = re.compile(r"\$2([a-z]?)\$[0-9]{2}\$[./A-Za-z0-9]{53}")
CARRIED_HASH_SQL_PATTERN = r"^\$2a\$[0-9]{2}\$[./A-Za-z0-9]{53}$"

TABLE_DDL = f"""
create table if not exists {SCHEMA}.{TABLE} (
    participant_id bigint primary key,
    password_hash text,
    password_status text not null,
    password_shape text not null
)
"""
# Named so that ensure_table can add them to a table created bare (e.g. by the staging model's pre-hook).
CONSTRAINTS = {
    "carried_passwords_hash_is_bcrypt_2a": f"check (password_hash ~ '{CARRIED_HASH_SQL_PATTERN}')",
    "carried_passwords_status_known": "check (password_status in ({}))".format(", ".join(f"'{s}'" for s in STATUSES)),
    "carried_passwords_shape_known": "check (password_shape in ({}))".format(", ".join(f"'{s}'" for s in SHAPES)),
    "carried_passwords_hash_iff_not_reset": "check ((password_hash is null) = (password_status = 'reset_required'))",
}


class PasswordStepError(RuntimeError):
    """The password step failed; the message never contains a password or a hash."""


@dataclass(frozen=True)
class CarriedPassword:
    participant_id: int
    password_hash: str | None
    password_status: str
    password_shape: str


@dataclass
class CarrySummary:
    """What one run of the step did: rows by shape and by status, and what changed in the table."""

    shapes: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def total(self) -> int:
        return sum(self.shapes.values())

    def describe(self) -> str:
        shapes = ", ".join(f"{shape} {self.shapes[shape]}" for shape in SHAPES if self.shapes[shape])
        statuses = ", ".join(f"{status} {self.statuses[status]}" for status in STATUSES if self.statuses[status])
        return (
            f"{self.total} participants ({shapes or 'none'}); {statuses or 'nothing carried'}; "
            f"table: {self.inserted} inserted, {self.updated} updated, {self.deleted} deleted"
        )


def classify(password: str | None) -> str:
    """The shape of a stored password value (one of SHAPES); looks only at its form."""
    if password is None or password.strip() == "":
        return "empty"
    match = BCRYPT_PATTERN.fullmatch(password)
    if match is None:
        return "plaintext"
    return {"a": "bcrypt_2a", "b": "bcrypt_2b", "y": "bcrypt_2y"}.get(match.group(1), "bcrypt_other")


def bcrypt_hash(password: str) -> str:
    """A fresh bcrypt `$2a$` hash (cost 10) of the password's first 72 UTF-8 bytes, as pgcrypto would check it."""
    secret = password.encode("utf-8")[:BCRYPT_MAX_BYTES]
    return bcrypt.hashpw(secret, bcrypt.gensalt(rounds=BCRYPT_COST, prefix=b"2a")).decode("ascii")


def _still_verifies(password: str, previous_hash: str | None) -> bool:
    if previous_hash is None or classify(previous_hash) != "bcrypt_2a":
        return False
    return bcrypt.checkpw(password.encode("utf-8")[:BCRYPT_MAX_BYTES], previous_hash.encode("ascii"))


def carry_one(
    participant_id: int,
    password: str | None,
    *,
    hash_plaintexts: bool = False,
    previous: CarriedPassword | None = None,
) -> CarriedPassword:
    """The carried row for one participant. `previous` (last run's row) lets a re-hashed plaintext keep its hash."""
    shape = classify(password)
    if shape == "bcrypt_2a":
        return CarriedPassword(participant_id, password, "carried", shape)
    if shape in ("bcrypt_2b", "bcrypt_2y"):
        # Same algorithm, same salt and digest: only the minor-version letter changes.
        return CarriedPassword(participant_id, "$2a$" + password[4:], "carried_rewritten", shape)
    if shape == "plaintext" and hash_plaintexts:
        # bcrypt salts are random: keep last run's hash while it still verifies, so a re-run writes the same row.
        if previous is not None and previous.password_status == "hashed_from_plaintext" and _still_verifies(
            password, previous.password_hash
        ):
            return CarriedPassword(participant_id, previous.password_hash, "hashed_from_plaintext", shape)
        return CarriedPassword(participant_id, bcrypt_hash(password), "hashed_from_plaintext", shape)
    return CarriedPassword(participant_id, None, "reset_required", shape)


def carry_all(
    source: Iterable[tuple[int, str | None]],
    *,
    hash_plaintexts: bool = False,
    previous: Mapping[int, CarriedPassword] | None = None,
) -> list[CarriedPassword]:
    """Carry every (participant_id, stored password). Hashing plaintexts runs on all cores (bcrypt frees the GIL)."""
    previous = previous or {}

    def one(item: tuple[int, str | None]) -> CarriedPassword:
        participant_id, password = item
        return carry_one(participant_id, password, hash_plaintexts=hash_plaintexts, previous=previous.get(participant_id))

    if not hash_plaintexts:
        return [one(item) for item in source]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(one, source))


# -- the table ------------------------------------------------------------------------------------------------------
def ensure_table(conn: psycopg.Connection) -> None:
    """Create the schema and table when missing and add any of the named constraints the table lacks."""
    conn.execute(f"create schema if not exists {SCHEMA}")
    conn.execute(TABLE_DDL)
    present = {
        row[0]
        for row in conn.execute(
            "select conname from pg_constraint where conrelid = %s::regclass", (f"{SCHEMA}.{TABLE}",)
        ).fetchall()
    }
    for name, definition in CONSTRAINTS.items():
        if name not in present:
            conn.execute(f"alter table {SCHEMA}.{TABLE} add constraint {name} {definition}")
    conn.execute(
        f"comment on table {SCHEMA}.{TABLE} is 'bcrypt hashes carried from public.participants.password "
        "by cogito-migrate (cogito_migrate.passwords); never plaintext'"
    )
    # Only the migration's role reads it; nothing is granted to anyone else.
    conn.execute(f"revoke all on {SCHEMA}.{TABLE} from public")


# People per round trip and per COPY: the step holds one batch at a time, so its memory does not grow with the
# number of people.
BATCH_ROWS = 5_000


def read_source(conn: psycopg.Connection) -> Iterator[tuple[int, str | None]]:
    """Every (participant id, stored password), in id order, streamed from a server-side cursor BATCH_ROWS at a
    time (inside a transaction of its own, or a savepoint of the caller's)."""
    exists = conn.execute("select to_regclass('public.participants') is not null").fetchone()[0]
    if not exists:
        raise PasswordStepError("public.participants does not exist: this database holds no Backstage data")
    with conn.transaction(), conn.cursor(name="participant_passwords") as cursor:
        cursor.itersize = BATCH_ROWS
        cursor.execute("select id, password from public.participants order by id")
        yield from cursor


def read_carried(conn: psycopg.Connection, participant_ids: list[int]) -> dict[int, CarriedPassword]:
    """Last run's rows of these people."""
    rows = conn.execute(
        f"select participant_id, password_hash, password_status, password_shape from {SCHEMA}.{TABLE}"
        " where participant_id = any(%s)",
        (participant_ids,),
    ).fetchall()
    return {row[0]: CarriedPassword(*row) for row in rows}


def stage_incoming(conn: psycopg.Connection, rows: list[CarriedPassword]) -> None:
    """Append a batch of carried rows to the run's incoming_passwords (a temporary table)."""
    with conn.cursor() as cursor, cursor.copy(
        "copy incoming_passwords (participant_id, password_hash, password_status, password_shape) from stdin"
    ) as copy:
        for row in rows:
            copy.write_row((row.participant_id, row.password_hash, row.password_status, row.password_shape))


def write_carried(conn: psycopg.Connection, summary: CarrySummary) -> None:
    """Make the table hold exactly the incoming rows, touching only rows that differ (so an unchanged re-run
    changes nothing)."""
    summary.deleted = conn.execute(
        f"delete from {SCHEMA}.{TABLE} as carried where not exists "
        "(select from incoming_passwords as incoming where incoming.participant_id = carried.participant_id)"
    ).rowcount
    summary.inserted, summary.updated = conn.execute(
        f"""
        with written as (
            insert into {SCHEMA}.{TABLE} as carried (participant_id, password_hash, password_status, password_shape)
            select participant_id, password_hash, password_status, password_shape from incoming_passwords
            on conflict (participant_id) do update set
                password_hash = excluded.password_hash,
                password_status = excluded.password_status,
                password_shape = excluded.password_shape
            where (carried.password_hash, carried.password_status, carried.password_shape)
                is distinct from (excluded.password_hash, excluded.password_status, excluded.password_shape)
            returning (xmax = 0) as inserted
        )
        select count(*) filter (where inserted), count(*) filter (where not inserted) from written
        """
    ).fetchone()


def carry_passwords(database_name: str | None = None, *, hash_plaintexts: bool = False) -> CarrySummary:
    """The whole step in one transaction: read public.participants batch by batch, classify, carry into a
    temporary table, then write the table from it."""
    summary = CarrySummary()
    try:
        with database.connect(database_name, autocommit=False) as conn:
            with conn.transaction():
                ensure_table(conn)
                # Serialise concurrent runs on the same database: the table is rewritten as a whole.
                conn.execute(f"lock table {SCHEMA}.{TABLE} in share row exclusive mode")
                conn.execute(f"create temporary table incoming_passwords (like {SCHEMA}.{TABLE} including defaults)"
                             " on commit drop")
                source = read_source(conn)
                while batch := list(itertools.islice(source, BATCH_ROWS)):
                    previous = read_carried(conn, [participant_id for participant_id, _ in batch])
                    rows = carry_all(batch, hash_plaintexts=hash_plaintexts, previous=previous)
                    stage_incoming(conn, rows)
                    summary.shapes.update(row.password_shape for row in rows)
                    summary.statuses.update(row.password_status for row in rows)
                write_carried(conn, summary)
    except psycopg.Error as exc:
        # Only the SQLSTATE and the primary message: the DETAIL of a failed row could show a value.
        raise PasswordStepError(
            f"writing {SCHEMA}.{TABLE} failed ({exc.sqlstate}): {exc.diag.message_primary}"
        ) from None
    return summary
