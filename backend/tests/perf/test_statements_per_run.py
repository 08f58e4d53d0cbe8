"""SQL statements per run: what one "hello" run costs the database, counted so it can't regrow.

Counted with SQLAlchemy's public `before_cursor_execute` event on the app's engine; the
checkpointer's own pool (psycopg, not SQLAlchemy) is not counted here.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from app.core.db import engine
from tests.utils import API


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split())[:120])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", record)


# What one run needs: its thread, the budget lock (PostgreSQL), the run inserted only within
# the budgets, the claim (with whether the owner is a superuser), and the outcome with the
# thread's status. Authentication is served from the session cache; no pre-ping.
EXPECTED = {
    "postgresql": [
        "INSERT INTO agent_thread",
        "SELECT pg_advisory_xact_lock",
        "INSERT INTO agent_run",
        "UPDATE agent_run",
        "WITH finished_run AS (UPDATE agent_run",
    ],
    "sqlite": [  # no advisory lock (SQLite has one writer); no UPDATE inside a CTE
        "INSERT INTO agent_thread",
        "INSERT INTO agent_run",
        "UPDATE agent_run",
        "UPDATE agent_run",
        "UPDATE agent_thread",
    ],
}


async def test_a_hello_run_on_a_new_thread(client, normal_user_token_headers, statements) -> None:
    headers = normal_user_token_headers
    warm = await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
    assert warm.status_code == 200 and warm.json()["status"] == "success"
    expected = EXPECTED[engine.dialect.name]
    # The engine also serves the process's background loops (lease renewals, sweeps) and, on a
    # shared Redis, other processes' cache invalidations can make one request re-read the
    # user: up to three runs, one of which must send exactly the run's statements. A statement
    # every run adds fails all three.
    attempts: list[list[str]] = []
    for _ in range(3):
        statements.clear()
        response = await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
        assert response.status_code == 200 and response.json()["status"] == "success"
        attempts.append(list(statements))
        if len(statements) == len(expected) and all(
            statement.startswith(start)
            for statement, start in zip(statements, expected, strict=True)
        ):
            return
    raise AssertionError(
        "expected " + " | ".join(expected) + "\n" + "\n--\n".join("\n".join(a) for a in attempts)
    )
