"""One `cogito-migrate run` at a time per database.

A run holds a session-level advisory lock on a connection of its own from its first step to its last. A second run
asks for the same lock without waiting, and refuses at once, naming the run that holds it (its host and process
from the holding connection's `application_name`, and since when). The server releases the lock when the holding
connection ends, however the run ends: finished, failed, killed, or the server restarted. No lock file, nothing
to clean up by hand.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

import psycopg

from cogito_migrate import database

# The advisory lock's key: 'cogito' in ASCII, one bigint (pg_locks shows it as classid 0x636f, objid 0x6769746f).
LOCK_KEY = int.from_bytes(b"cogito", "big")
APPLICATION_PREFIX = "cogito-migrate run"


class RunLocked(RuntimeError):
    """Another run holds the database; the message names it."""


@dataclass(frozen=True)
class Holder:
    """The connection holding the lock, as pg_stat_activity shows it."""

    backend_pid: int
    application_name: str
    client_address: str | None
    since: datetime | None

    def describe(self) -> str:
        who = self.application_name.removeprefix(APPLICATION_PREFIX).strip() or "a process"
        where = f" (client address {self.client_address})" if self.client_address else ""
        when = f" since {self.since:%Y-%m-%d %H:%M:%S %Z}" if self.since else ""
        return f"{who}{where}{when}, server process {self.backend_pid}"


def application_name() -> str:
    """Who this run is, for pg_stat_activity: host and process id (PostgreSQL keeps 63 bytes of it)."""
    return f"{APPLICATION_PREFIX} {socket.gethostname()} pid {os.getpid()}"[:63]


def holder(conn: psycopg.Connection) -> Holder | None:
    """The backend holding the run lock of this connection's database, if any."""
    row = conn.execute(
        """
        select activity.pid, activity.application_name, host(activity.client_addr), activity.backend_start
        from pg_locks as held
        inner join pg_stat_activity as activity on held.pid = activity.pid
        where
            held.locktype = 'advisory'
            and held.granted
            and held.database = (select oid from pg_database where datname = current_database())
            and held.classid = (%(key)s >> 32)::oid
            and held.objid = (%(key)s & 4294967295)::oid
            and held.objsubid = 1
        """,
        {"key": LOCK_KEY},
    ).fetchone()
    return Holder(*row) if row else None


def acquire(database_name: str) -> psycopg.Connection:
    """The connection holding the run lock (close it to release the lock). Raises RunLocked at once when another
    run holds it."""
    conn = database.connect(database_name, application_name=application_name())
    try:
        (acquired,) = conn.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        if not acquired:
            running = holder(conn)
            raise RunLocked(
                f"another cogito-migrate run is migrating database {database_name!r}: "
                f"{running.describe() if running else 'it has just finished'}; "
                "wait for it to finish (this run changed nothing), or stop that process to end it"
            )
    except BaseException:
        conn.close()
        raise
    return conn
