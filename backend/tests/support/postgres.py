"""A throwaway PostgreSQL server for tests, started from the machine's `pg_ctl`.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as the
`postgres` system user through a tiny `runuser` wrapper around `pg_ctl`.
"""

import os
import pwd
import shutil
import socket
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pytest_postgresql.executors import PostgreSQLExecutor


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_pg_ctl() -> str:
    """The newest installed `pg_ctl`."""
    found = shutil.which("pg_ctl")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found: run scripts/install-test-deps.sh")
    return str(candidates[-1])


@dataclass
class PostgresServer:
    """A running test server."""

    executor: PostgreSQLExecutor
    base_dir: Path
    port: int
    user: str = "postgres"

    def url(self, dbname: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """A connection URL for one database."""
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        """Stop the server and delete its data."""
        try:
            self.executor.stop()
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb into a fresh directory and start a server on a free loopback port."""
    pg_ctl = find_pg_ctl()
    base_dir = Path(tempfile.mkdtemp(prefix="app-test-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(base_dir, account.pw_uid, account.pw_gid)
        wrapper = base_dir / "pg_ctl"
        # From `/`: the postgres user may not enter the caller's directory (a 0700 mktemp clone).
        wrapper.write_text(f'#!/bin/sh\ncd / && exec runuser -u postgres -- "{pg_ctl}" "$@"\n')
        wrapper.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        pg_ctl = str(wrapper)
    port = free_port()
    executor = PostgreSQLExecutor(
        executable=pg_ctl,
        host="127.0.0.1",
        port=port,
        datadir=str(base_dir / "data"),
        unixsocketdir=str(base_dir),
        logfile=str(base_dir / "postgresql.log"),
        startparams="-w",
        dbname="postgres",
        user="postgres",
        postgres_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        "-c max_connections=300 -c listen_addresses=127.0.0.1",
    )
    executor.init_directory()
    executor.start()
    server = PostgresServer(executor=executor, base_dir=base_dir, port=port)
    _wait_until_ready(server)
    return server


def _wait_until_ready(server: PostgresServer, timeout: float = 30.0) -> None:
    """The port opens before the server accepts queries ("the database system is starting up")."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(server.url(driver="postgresql"), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
