"""Durable runs through the API (embedded mode: in-process queue and event log).

Rejoin with Last-Event-ID, bad ids, foreign and deleted threads, approvals superseded by a
new message, a queue outage, and the thread's view of a turn that never finished.
"""

import uuid
from typing import Any

import httpx
import pytest

from tests.support.sse import iter_sse_ids
from tests.utils import API, create_user_and_login

Event = tuple[str | None, dict[str, Any]]


async def _stream(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    *,
    keep: int | None = None,
    **kw: Any,
) -> list[Event]:
    """Read a stream, all of it or only its first `keep` events (then disconnect)."""
    events: list[Event] = []
    method = "POST" if "json" in kw else "GET"
    async with client.stream(method, url, headers=headers, **kw) as response:
        assert response.status_code == 200, await response.aread()
        async for item in iter_sse_ids(response):
            events.append(item)
            if keep is not None and len(events) == keep:
                break
    return events


async def _join(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str, after: str | None
) -> list[Event]:
    extra = {"Last-Event-ID": after} if after else {}
    return await _stream(client, f"{API}/agent/runs/{run_id}/stream", {**headers, **extra})


@pytest.fixture
def slow_model(agent_settings: Any) -> None:
    """Model calls slow enough to disconnect mid-run."""
    agent_settings(OFFLINE_MODEL_LATENCY_MS=200, OFFLINE_MODEL_TOKENS_PER_SECOND=200)


async def test_rejoin_replays_each_event_once(
    client, normal_user_token_headers, slow_model
) -> None:
    headers = normal_user_token_headers
    body = {"message": "show my items", "on_disconnect": "continue"}
    first = await _stream(client, f"{API}/agent/run/stream", headers, keep=1, json=body)
    run_id = first[0][1]["run_id"]
    whole = await _join(client, headers, run_id, None)
    assert whole[0] == first[0]
    assert whole[-1][1]["type"] == "run_completed" and whole[-1][1]["status"] == "success"
    ids = [event_id for event_id, _ in whole]
    assert all(ids) and len(set(ids)) == len(ids)
    for k in (1, len(whole) // 2, len(whole)):  # at the start, the middle, after the end
        rest = await _join(client, headers, run_id, whole[k - 1][0])
        if k == len(whole):
            # After the last event nothing follows: the run is over, said once more.
            assert [e for _, e in rest] == [whole[-1][1]] or rest == []
        else:
            assert whole[:k] + rest == whole


async def test_rejoin_a_run_in_flight_gets_the_live_tail(
    client, normal_user_token_headers, slow_model
) -> None:
    headers = normal_user_token_headers
    body = {"message": "show my items", "on_disconnect": "continue"}
    first = await _stream(client, f"{API}/agent/run/stream", headers, keep=2, json=body)
    run_id = first[0][1]["run_id"]
    rest = await _join(client, headers, run_id, first[-1][0])
    assert rest[-1][1]["type"] == "run_completed"
    whole = await _join(client, headers, run_id, None)
    assert first + rest == whole


async def test_bad_event_ids_and_foreign_runs(client, normal_user_token_headers) -> None:
    headers = normal_user_token_headers
    done = (
        await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
    ).json()
    url = f"{API}/agent/runs/{done['run_id']}/stream"
    for bad in ("999999", "abc", "1-0-0", "0"):
        response = await client.get(url, headers={**headers, "Last-Event-ID": bad})
        assert response.status_code == 400, bad
        assert "not an event id" in response.json()["detail"]
    assert (await client.get(f"{url}?after=424242", headers=headers)).status_code == 400
    other, _ = await create_user_and_login(client)
    assert (await client.get(url, headers=other)).status_code == 404
    cancel = await client.post(f"{API}/agent/runs/{done['run_id']}/cancel", headers=other)
    assert cancel.status_code == 404
    missing = await client.get(f"{API}/agent/runs/{uuid.uuid4()}/stream", headers=headers)
    assert missing.status_code == 404 and missing.json() == {
        "detail": "Run not found",
        "code": "not_found",
    }
    finished = await client.post(f"{API}/agent/runs/{done['run_id']}/cancel", headers=headers)
    assert finished.status_code == 409


async def test_threads_are_records_owned_by_one_user(client, normal_user_token_headers) -> None:
    headers = normal_user_token_headers
    unknown = await client.post(
        f"{API}/agent/run", json={"message": "hi", "thread_id": str(uuid.uuid4())}, headers=headers
    )
    assert unknown.status_code == 404 and unknown.json() == {
        "detail": "Thread not found",
        "code": "not_found",
    }
    done = (
        await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
    ).json()
    threads = (await client.get(f"{API}/agent/threads", headers=headers)).json()
    assert threads["count"] == 1
    assert threads["data"][0] | {"last_activity": None} == {
        "thread_id": done["thread_id"],
        "title": "hello",
        "status": "idle",
        "last_activity": None,
        "run_count": 1,
    }
    other, _ = await create_user_and_login(client)
    await _assert_thread_hidden(client, other, done["thread_id"])


async def _assert_thread_hidden(
    client: httpx.AsyncClient, headers: dict[str, str], thread_id: str
) -> None:
    """404 on run, stream, thread read and delete."""
    body = {"message": "continue it", "thread_id": thread_id}
    assert (await client.post(f"{API}/agent/run", json=body, headers=headers)).status_code == 404
    stream = await client.post(f"{API}/agent/run/stream", json=body, headers=headers)
    assert stream.status_code == 404
    assert (
        await client.get(f"{API}/agent/threads/{thread_id}", headers=headers)
    ).status_code == 404
    assert (
        await client.delete(f"{API}/agent/threads/{thread_id}", headers=headers)
    ).status_code == 404


async def test_deleting_a_user_deletes_threads_and_checkpoints(
    client, app, superuser_token_headers
) -> None:
    headers, user = await create_user_and_login(client)
    done = (
        await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
    ).json()
    thread_id = uuid.UUID(done["thread_id"])
    agent = app.state.runs.agent
    assert await agent.thread_messages(thread_id)
    deleted = await client.delete(f"{API}/users/{user.id}", headers=superuser_token_headers)
    assert deleted.status_code == 200
    assert await agent.thread_messages(thread_id) == []
    other, _ = await create_user_and_login(client)
    await _assert_thread_hidden(client, other, str(thread_id))
    # The superuser doesn't see it either: the thread is gone, not hidden.
    read = await client.get(f"{API}/agent/threads/{thread_id}", headers=superuser_token_headers)
    assert read.status_code == 404


async def test_deleted_thread_never_continues(client, app, normal_user_token_headers) -> None:
    headers = normal_user_token_headers
    done = (
        await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
    ).json()
    assert (
        await client.delete(f"{API}/agent/threads/{done['thread_id']}", headers=headers)
    ).status_code == 200
    await _assert_thread_hidden(client, headers, done["thread_id"])
    assert await app.state.runs.agent.thread_messages(uuid.UUID(done["thread_id"])) == []
    run = (await client.get(f"{API}/agent/runs/{done['run_id']}", headers=headers)).json()
    assert run["thread_deleted"] is True


async def test_queue_outage_is_503_and_leaves_nothing_pending(
    client, normal_user_token_headers, fresh_client_factory, agent_settings
) -> None:
    from tests.support.redis import start_redis

    server = start_redis()
    try:
        agent_settings(REDIS_URL=server.url)
        async with fresh_client_factory() as redis_client:
            server.stop()
            response = await redis_client.post(
                f"{API}/agent/run", json={"message": "hello"}, headers=normal_user_token_headers
            )
    finally:
        server.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "retry" in response.json()["detail"]
    runs = (await client.get(f"{API}/agent/runs", headers=normal_user_token_headers)).json()
    assert [r["status"] for r in runs["data"]] == ["error"]


async def test_lapsed_lease_interrupts_and_the_turn_stays_visible(
    client, app, normal_user_token_headers, agent_settings
) -> None:
    """A run whose worker vanished (its lease lapsed): the sweep ends it, the thread shows it."""
    from datetime import timedelta

    from app.core.db import SessionMaker
    from app.models import AgentRun, RunStatus, utcnow

    headers = normal_user_token_headers
    done = (
        await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
    ).json()
    lost_id = uuid.uuid4()
    async with SessionMaker() as session:  # as a worker killed before any checkpoint leaves it
        session.add(
            AgentRun(
                id=lost_id,
                user_id=uuid.UUID(await _me(client, headers)),
                thread_id=uuid.UUID(done["thread_id"]),
                input="lost turn",
                status=RunStatus.running,
                lease_expires_at=utcnow() - timedelta(seconds=1),
            )
        )
        await session.commit()
    agent_settings(AGENT_MAX_CONCURRENT_RUNS_PER_USER=1)
    capped = await client.post(f"{API}/agent/run", json={"message": "hello again"}, headers=headers)
    assert capped.status_code == 200, "a lapsed lease never counts against the cap"
    assert await app.state.runs.leases.sweep() == 1
    run = (await client.get(f"{API}/agent/runs/{lost_id}", headers=headers)).json()
    assert run["status"] == "interrupted"
    thread = (await client.get(f"{API}/agent/threads/{done['thread_id']}", headers=headers)).json()
    users = [(m["content"], m["run_status"]) for m in thread["messages"] if m["role"] == "user"]
    assert users == [("hello", None), ("lost turn", "interrupted")]
    assert [m["role"] for m in thread["messages"]][-1] == "user"
    events = await _join(client, headers, str(lost_id), None)
    assert [e["code"] for _, e in events] == ["interrupted"]


async def _me(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str((await client.get(f"{API}/users/me", headers=headers)).json()["id"])


async def test_new_message_supersedes_a_pending_approval(client, normal_user_token_headers) -> None:
    headers = normal_user_token_headers
    paused = (
        await client.post(
            f"{API}/agent/run",
            json={"message": 'post "hi" to https://example.com/hook'},
            headers=headers,
        )
    ).json()
    assert paused["status"] == "awaiting_approval", paused
    approval_id = paused["pending_approval"]["approval_id"]
    body = {"message": "never mind, show my items", "thread_id": paused["thread_id"]}
    follow = await client.post(f"{API}/agent/run", json=body, headers=headers)
    assert follow.status_code == 200 and follow.json()["status"] == "success"
    old = (await client.get(f"{API}/agent/runs/{paused['run_id']}", headers=headers)).json()
    assert old["status"] == "cancelled" and "Superseded" in old["error"]
    url = f"{API}/agent/threads/{paused['thread_id']}/approvals/{approval_id}"
    late = await client.post(url, json={"decision": "approve"}, headers=headers)
    assert late.status_code == 409 and "superseded" in late.json()["detail"]
    audit = (await client.get(f"{API}/agent/approvals", headers=headers)).json()["data"][0]
    assert audit["status"] == "superseded"
