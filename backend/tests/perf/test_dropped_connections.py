"""A database connection the server dropped costs no request: the pool replaces it.

There is no pre-ping (a round trip per checkout); a pooled connection whose socket shows the
server closed it is discarded at checkout and another is opened instead.
"""

import os
import resource
import time

import psycopg
import pytest
from sqlalchemy import event

from app.core.db import engine
from tests.support.postgres import PostgresServer
from tests.utils import API

# SQLite has no server that can drop a connection; the default (PostgreSQL) pass runs these.
pytestmark = pytest.mark.skipif(
    engine.dialect.name != "postgresql",
    reason="needs a database server that drops connections; the default PostgreSQL run covers this",
)


def terminate_app_connections(server: PostgresServer) -> int:
    """pg_terminate_backend every other connection to the test database and wait until they
    are gone (the signal is asynchronous); how many there were."""
    with psycopg.connect(server.url(driver="postgresql"), autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = 'app_test' AND pid <> pg_backend_pid()"
            )
        ]
        conn.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
            ).fetchone()
            if alive is not None and alive[0] == 0:
                break
            time.sleep(0.02)
    return len(pids)


async def test_requests_after_the_server_dropped_every_connection(
    client, normal_user_token_headers, postgres_server
) -> None:
    headers = normal_user_token_headers
    for _ in range(3):  # fill the pool with connections that then sit idle
        assert (await client.get(f"{API}/users/me", headers=headers)).status_code == 200
    assert (await client.get(f"{API}/agent/runs", headers=headers)).status_code == 200
    pings: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        pings.append(statement)

    for _round in range(3):
        assert terminate_app_connections(postgres_server) >= 1
        response = await client.get(f"{API}/agent/runs", headers=headers)
        assert response.status_code == 200, response.text
        run = await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
        assert run.status_code == 200 and run.json()["status"] == "success", run.text
    # And no statement is spent checking connections while they are healthy.
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        assert (await client.get(f"{API}/agent/runs", headers=headers)).status_code == 200
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert not any(s.strip().upper() == "SELECT 1" for s in pings), pings


async def test_connections_with_descriptors_past_1024_are_checked_too(
    client, normal_user_token_headers, postgres_server
) -> None:
    """A process holding many streams opens database connections on descriptors ≥ 1024, which
    select() refuses ("filedescriptor out of range"): the checkout check must still work."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1200 + 64
    # Not a skip: without the descriptors the check this test exists for can't be exercised.
    assert hard == resource.RLIM_INFINITY or hard >= wanted, (
        f"this test needs a hard RLIMIT_NOFILE of {wanted} or more (`ulimit -Hn`: {hard})"
    )
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    await engine.dispose()  # its connections' low descriptors go to the filler below
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        headers = normal_user_token_headers
        assert (await client.get(f"{API}/agent/runs", headers=headers)).status_code == 200
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is not None
            assert raw.driver_connection.fileno() >= 1024
        for _round in range(2):
            assert terminate_app_connections(postgres_server) >= 1
            response = await client.get(f"{API}/agent/runs", headers=headers)
            assert response.status_code == 200, response.text
    finally:
        await engine.dispose()
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
