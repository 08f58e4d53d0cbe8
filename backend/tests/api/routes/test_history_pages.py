"""History lists: keyset cursors through runs and threads, filters, bounded counts."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert

from app.core.db import SessionMaker, engine
from app.crud.pages import EXACT_COUNT_LIMIT
from app.models import AgentRun, AgentThread
from tests.utils import API, create_user_and_login


async def add_history(user_id: uuid.UUID, threads: int, runs_per_thread: int) -> None:
    """Threads and runs straight into the tables, with distinct and with equal timestamps."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    thread_rows: list[dict[str, Any]] = []
    run_rows: list[dict[str, Any]] = []
    for t in range(threads):
        thread_id = uuid.uuid4()
        at = start + timedelta(minutes=t // 2)  # pairs share a timestamp: ties broken by id
        thread_rows.append(
            {
                "id": thread_id,
                "user_id": user_id,
                "title": f"t{t}",
                "status": "idle",
                "metadata": {},
                "created_at": at,
                "updated_at": at,
            }
        )
        for r in range(runs_per_thread):
            run_rows.append(
                {
                    "id": uuid.uuid4(),
                    "user_id": user_id,
                    "thread_id": thread_id,
                    "input": f"run {t}.{r}",
                    "status": "error" if r % 3 == 0 else "success",
                    "created_at": at + timedelta(seconds=r // 2),
                    "prompt_tokens": 0,
                    "completion_tokens": 0,
                    "total_tokens": 0,
                    "tool_call_count": 0,
                    "thread_deleted": False,
                    "tool_calls": [],
                    "metadata": {},
                }
            )
    async with SessionMaker() as session:
        await session.exec(insert(AgentThread.__table__), params=thread_rows)  # type: ignore[call-overload]
        await session.exec(insert(AgentRun.__table__), params=run_rows)  # type: ignore[call-overload]
        await session.commit()


async def walk(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], key: str, **params: Any
) -> list[str]:
    """Every item of a list, page by page through `next_cursor`."""
    seen: list[str] = []
    cursor = None
    for _ in range(1000):
        query = params | ({"cursor": cursor} if cursor else {})
        page = (await client.get(url, headers=headers, params=query)).json()
        seen += [item[key] for item in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


async def test_runs_by_cursor_match_the_offset_order(client) -> None:
    headers, user = await create_user_and_login(client)
    await add_history(user.id, threads=9, runs_per_thread=5)
    url = f"{API}/agent/runs"
    everything = (await client.get(url, headers=headers, params={"limit": 200})).json()
    assert everything["count"] == 45 and not everything["count_is_estimate"]
    assert everything["next_cursor"] is None
    expected = [run["id"] for run in everything["data"]]
    assert await walk(client, url, headers, "id", limit=7) == expected
    errors = [run["id"] for run in everything["data"] if run["status"] == "error"]
    assert await walk(client, url, headers, "id", limit=4, status="error") == errors
    thread_id = everything["data"][0]["thread_id"]
    in_thread = [run["id"] for run in everything["data"] if run["thread_id"] == thread_id]
    assert await walk(client, url, headers, "id", limit=2, thread_id=thread_id) == in_thread
    offset = (await client.get(url, headers=headers, params={"limit": 7, "skip": 7})).json()
    assert [run["id"] for run in offset["data"]] == expected[7:14]


async def test_threads_by_cursor_match_the_offset_order(client) -> None:
    headers, user = await create_user_and_login(client)
    other_headers, other = await create_user_and_login(client)
    await add_history(user.id, threads=11, runs_per_thread=2)
    await add_history(other.id, threads=3, runs_per_thread=1)
    url = f"{API}/agent/threads"
    everything = (await client.get(url, headers=headers, params={"limit": 200})).json()
    assert everything["count"] == 11 and len(everything["data"]) == 11
    assert all(thread["run_count"] == 2 for thread in everything["data"])
    expected = [thread["thread_id"] for thread in everything["data"]]
    assert await walk(client, url, headers, "thread_id", limit=3) == expected
    assert len(await walk(client, url, other_headers, "thread_id", limit=2)) == 3


# Not base64, base64 of a non-list, of a list of non-timestamps, a timestamp without a zone.
BAD_CURSORS = ["nonsense!", "", "e30", "WyJ4IiwieSJd", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwiMSJd"]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
async def test_a_bad_cursor_is_a_400(client, normal_user_token_headers, cursor: str) -> None:
    for url in (f"{API}/agent/runs", f"{API}/agent/threads"):
        response = await client.get(
            url, headers=normal_user_token_headers, params={"cursor": cursor}
        )
        assert response.status_code == 400, response.text
        assert response.json() == {"detail": "Invalid cursor", "code": "bad_request"}
    too_long = {"cursor": "x" * 201}
    response = await client.get(url, headers=normal_user_token_headers, params=too_long)
    assert response.status_code == 422


@pytest.mark.skipif(
    engine.dialect.name != "postgresql",
    reason="count estimates come from PostgreSQL's planner; the default PostgreSQL run covers this",
)
async def test_a_long_history_reports_an_estimated_count(client) -> None:
    headers, user = await create_user_and_login(client)
    await add_history(user.id, threads=EXACT_COUNT_LIMIT // 4 + 10, runs_per_thread=5)
    async with engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE agent_run")
    page = (await client.get(f"{API}/agent/runs", headers=headers)).json()
    assert page["count_is_estimate"] is True
    assert page["count"] > EXACT_COUNT_LIMIT
    few = (await client.get(f"{API}/agent/threads", headers=headers)).json()
    assert few["count_is_estimate"] is False and few["count"] == EXACT_COUNT_LIMIT // 4 + 10


@pytest.mark.skipif(
    engine.dialect.name != "postgresql",
    reason="trigram indexes are PostgreSQL's; the default PostgreSQL run covers this",
)
async def test_search_reads_the_trigram_indexes(client) -> None:
    """`?q=` finds threads by title and by message through the trigram indexes (migration
    0017) instead of filtering every thread of the user."""
    headers, user = await create_user_and_login(client)
    await add_history(user.id, threads=2000, runs_per_thread=10)
    async with engine.connect() as conn:  # statistics, as autovacuum would have them
        uid = user.id.hex
        await conn.exec_driver_sql(
            "UPDATE agent_run SET input = 'where did the Quokka go'"
            f" WHERE input = 'run 1417.2' AND user_id = '{uid}'"
        )
        await conn.exec_driver_sql(
            f"UPDATE agent_thread SET title = 'quokka notes' WHERE title = 't123' AND user_id = '{uid}'"
        )
        await conn.exec_driver_sql("ANALYZE agent_run")
        await conn.exec_driver_sql("ANALYZE agent_thread")
        await conn.commit()
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "agent_thread" in statement and "LIMIT" in statement:
            statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        page = await client.get(f"{API}/agent/threads", headers=headers, params={"q": "QUOKKA"})
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert page.status_code == 200, page.text
    assert [t["title"] for t in page.json()["data"]] == ["t1417", "quokka notes"]
    assert statements
    statement, parameters = statements[-1]
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        async with driver.cursor() as cursor:
            # A few thousand rows fit in a few pages, where a scan is cheaper than any index;
            # at scale (scripts/bench_history.py) the planner picks these indexes by itself.
            await cursor.execute("SET LOCAL enable_seqscan = off")
            await cursor.execute("EXPLAIN " + statement, parameters)
            plan = "\n".join(row[0] for row in await cursor.fetchall())
        await driver.rollback()
    # The titles' part reads its trigram index. (For the runs' part, 20,000 runs are still few
    # enough that the planner prefers the user's btree; with a million, bench_history.py's
    # search cases show it reading ix_agent_run_input_trgm and ix_agent_run_response_trgm.)
    assert "ix_agent_thread_title_trgm" in plan, plan


@pytest.mark.skipif(
    engine.dialect.name != "postgresql",
    reason="count estimates come from PostgreSQL's planner; the default PostgreSQL run covers this",
)
async def test_a_common_search_term_pages_through_the_newest_threads(client) -> None:
    """A term in thousands of runs is counted by estimate and paged from the newest threads
    (no pass over every match), with the same pages as the full list, also when the newest
    threads hold no match and the trigram query takes over."""
    headers, user = await create_user_and_login(client)
    await add_history(user.id, threads=2400, runs_per_thread=10)
    async with engine.connect() as conn:
        uid = user.id.hex
        # 'zebra' in every run of the 1,400 oldest threads; the newest 1,000 hold none.
        await conn.exec_driver_sql(
            "UPDATE agent_run SET input = input || ' zebra' WHERE thread_id IN (SELECT id FROM"
            f" agent_thread WHERE user_id = '{uid}' AND substring(title from 2)::int < 1400)"
        )
        await conn.exec_driver_sql("ANALYZE agent_run")
        await conn.exec_driver_sql("ANALYZE agent_thread")
        await conn.commit()
    url = f"{API}/agent/threads"
    newest_first = await walk(client, url, headers, "thread_id", limit=100)
    assert len(newest_first) == 2400
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        common = (await client.get(url, headers=headers, params={"q": "RUN"})).json()
        walked = statements.copy()
        statements.clear()
        rare_in_newest = (await client.get(url, headers=headers, params={"q": "zebra"})).json()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    assert common["count_is_estimate"] is True and common["count"] > EXACT_COUNT_LIMIT
    assert [t["thread_id"] for t in common["data"]] == newest_first[: len(common["data"])]
    pages = [s for s in walked if s.lstrip().startswith("SELECT")]
    assert any("LATERAL" in s for s in pages), pages  # the newest threads, checked one by one
    assert not any("UNION" in s for s in pages), pages  # … and not every match collected

    older = newest_first[1000:]
    assert [t["thread_id"] for t in rare_in_newest["data"]] == older[: len(rare_in_newest["data"])]
    pages = [s for s in statements if s.lstrip().startswith("SELECT")]
    assert any("LATERAL" in s for s in pages) and any("UNION" in s for s in pages), pages

    # Cursor pages give the full list, through both query shapes.
    assert await walk(client, url, headers, "thread_id", limit=100, q="run") == newest_first
    assert await walk(client, url, headers, "thread_id", limit=100, q="zebra") == older
