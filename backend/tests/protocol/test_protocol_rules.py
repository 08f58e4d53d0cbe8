"""The Agent Protocol's rules: bad input, isolation between users, multitask strategies,
rejoin, cancel, stateless runs, limits, and that its runs are our runs (audit, history)."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk.schema import Command

from app.core.config import settings
from tests.utils import API

HELLO = {"messages": [{"type": "human", "content": "hello"}]}


def _status(error: pytest.ExceptionInfo[httpx.HTTPStatusError]) -> int:
    return error.value.response.status_code


async def _raw(protocol_url: str, headers: dict[str, str], method: str, path: str, **kw: Any):
    async with httpx.AsyncClient(base_url=protocol_url, timeout=30) as http:
        return await http.request(method, path, headers=headers, **kw)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            {"assistant_id": "agent", "input": {"messages": [{"type": "ai", "content": "hi"}]}},
            "only user messages",
        ),
        (
            {"assistant_id": "agent", "input": {"messages": [{"type": "human"}]}},
            "content is required",
        ),
        (
            {
                "assistant_id": "agent",
                "input": {
                    "messages": [
                        {"type": "human", "content": [{"type": "image_url", "image_url": "x"}]}
                    ]
                },
            },
            "only text content",
        ),
        ({"assistant_id": "agent", "input": {"messages": "hello"}}, "non-empty list"),
        (
            {"assistant_id": "agent", "input": {"messages": [{"type": "human", "content": "  "}]}},
            "blank",
        ),
        (
            {"assistant_id": "agent", "input": HELLO, "stream_mode": ["values", "bogus"]},
            "stream_mode",
        ),
        (
            {"assistant_id": "agent", "input": HELLO, "multitask_strategy": "sometimes"},
            "multitask_strategy",
        ),
        (
            {"assistant_id": "agent", "input": HELLO, "command": {"goto": "planner"}},
            "either input or command",
        ),
        ({"assistant_id": "agent", "input": "hello"}, "input"),
    ],
)
async def test_bad_run_input_is_422_and_writes_nothing(
    sdk_client, protocol_url, body, fragment
) -> None:
    client, _ = await sdk_client()
    tid = (await client.threads.create())["thread_id"]
    response = await _raw(
        protocol_url, client.http.client.headers, "POST", f"/threads/{tid}/runs/wait", json=body
    )
    assert response.status_code == 422, response.text
    assert fragment in response.text
    assert isinstance(response.json()["detail"], str | list)
    assert await client.runs.list(tid) == []
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_text_plain_bodies_are_read_as_json(sdk_client, protocol_url) -> None:
    # agent-chat-ui's proxy forwards JSON bodies as text/plain.
    client, _ = await sdk_client()
    headers = {**client.http.client.headers, "content-type": "text/plain;charset=UTF-8"}
    response = await _raw(
        protocol_url, headers, "POST", "/threads", content=b'{"metadata": {"a": 1}}'
    )
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["a"] == 1


async def test_resume_without_interrupt_and_foreign_checkpoint(sdk_client) -> None:
    client, _ = await sdk_client()
    tid = (await client.threads.create())["thread_id"]
    with pytest.raises(httpx.HTTPStatusError) as no_pause:
        await client.runs.wait(
            tid, "agent", command=Command(resume={"decisions": [{"type": "approve"}]})
        )
    assert _status(no_pause) == 409
    other = (await client.threads.create())["thread_id"]
    await client.runs.wait(other, "agent", input=HELLO)
    foreign = (await client.threads.get_state(other))["checkpoint"]
    with pytest.raises(httpx.HTTPStatusError) as wrong:
        await client.runs.wait(tid, "agent", input=HELLO, checkpoint_id=foreign["checkpoint_id"])
    assert _status(wrong) == 404
    with pytest.raises(httpx.HTTPStatusError) as state:
        await client.threads.get_state(tid, checkpoint_id=foreign["checkpoint_id"])
    assert _status(state) == 404
    assert await client.runs.list(tid) == []


async def test_threads_if_exists_and_if_not_exists(sdk_client) -> None:
    client, _ = await sdk_client()
    tid = str(uuid.uuid4())
    created = await client.threads.create(thread_id=tid)
    assert created["thread_id"] == tid and created["status"] == "idle"
    with pytest.raises(httpx.HTTPStatusError) as exists:
        await client.threads.create(thread_id=tid, if_exists="raise")
    assert _status(exists) == 409
    same = await client.threads.create(thread_id=tid, if_exists="do_nothing")
    assert same["thread_id"] == tid
    missing = str(uuid.uuid4())
    with pytest.raises(httpx.HTTPStatusError) as absent:
        await client.runs.wait(missing, "agent", input=HELLO)
    assert _status(absent) == 404
    values = await client.runs.wait(missing, "agent", input=HELLO, if_not_exists="create")
    assert values["messages"][-1]["type"] == "ai"
    assert (await client.threads.get(missing))["metadata"]["graph_id"] == "agent"


async def test_another_users_threads_runs_and_checkpoints_are_404(sdk_client) -> None:
    owner, _ = await sdk_client()
    intruder, _ = await sdk_client()
    tid = (await owner.threads.create(metadata={"secret": "x"}))["thread_id"]
    run = await owner.runs.create(tid, "agent", input=HELLO)
    await owner.runs.join(tid, run["run_id"])
    checkpoint = (await owner.threads.get_state(tid))["checkpoint"]["checkpoint_id"]
    attempts = [
        intruder.threads.get(tid),
        intruder.threads.update(tid, metadata={"x": 1}),
        intruder.threads.delete(tid),
        intruder.threads.get_state(tid),
        intruder.threads.get_state(tid, checkpoint_id=checkpoint),
        intruder.threads.get_history(tid),
        intruder.runs.list(tid),
        intruder.runs.get(tid, run["run_id"]),
        intruder.runs.join(tid, run["run_id"]),
        intruder.runs.cancel(tid, run["run_id"]),
        intruder.runs.wait(tid, "agent", input=HELLO),
        intruder.runs.create(tid, "agent", input=HELLO),
    ]
    for attempt in attempts:
        with pytest.raises(httpx.HTTPStatusError) as denied:
            await attempt
        assert _status(denied) == 404
    with pytest.raises(httpx.HTTPStatusError) as exists:
        await intruder.threads.create(thread_id=tid)
    assert _status(exists) == 409  # ids are global; it says nothing of whose it is
    assert await intruder.threads.search(metadata={"secret": "x"}) == []
    with pytest.raises(httpx.HTTPStatusError) as stream:
        _ = [p async for p in intruder.runs.join_stream(tid, run["run_id"])]
    assert _status(stream) == 404
    assert (await owner.threads.get(tid))["metadata"] == {
        "graph_id": "agent",
        "assistant_id": (await owner.assistants.get("agent"))["assistant_id"],
        "secret": "x",
    }


ENDPOINTS = [
    ("POST", "/threads", {}),
    ("POST", "/threads/search", {}),
    ("GET", "/threads/{tid}", None),
    ("PATCH", "/threads/{tid}", {"metadata": {}}),
    ("DELETE", "/threads/{tid}", None),
    ("GET", "/threads/{tid}/state", None),
    ("GET", "/threads/{tid}/state/abc", None),
    ("POST", "/threads/{tid}/state/checkpoint", {"checkpoint": {"checkpoint_id": "abc"}}),
    ("POST", "/threads/{tid}/history", {}),
    ("GET", "/threads/{tid}/history", None),
    ("POST", "/threads/{tid}/runs", {"assistant_id": "agent", "input": HELLO}),
    ("POST", "/threads/{tid}/runs/stream", {"assistant_id": "agent", "input": HELLO}),
    ("POST", "/threads/{tid}/runs/wait", {"assistant_id": "agent", "input": HELLO}),
    ("GET", "/threads/{tid}/runs", None),
    ("GET", "/threads/{tid}/runs/{rid}", None),
    ("GET", "/threads/{tid}/runs/{rid}/join", None),
    ("GET", "/threads/{tid}/runs/{rid}/stream", None),
    ("POST", "/threads/{tid}/runs/{rid}/cancel", None),
    ("POST", "/runs/stream", {"assistant_id": "agent", "input": HELLO}),
    ("POST", "/runs/wait", {"assistant_id": "agent", "input": HELLO}),
    ("POST", "/assistants/search", {}),
    ("GET", "/assistants/agent", None),
    ("GET", "/assistants/agent/schemas", None),
    ("GET", "/assistants/agent/graph", None),
]


async def test_revoked_and_expired_keys_are_401_everywhere(sdk_client, protocol_url) -> None:
    from sqlalchemy import update
    from sqlmodel import col

    from app.core.db import SessionMaker
    from app.models import ApiKey, utcnow
    from app.services.auth.session_cache import session_cache

    client, owner = await sdk_client()
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "agent", input=HELLO)
    await client.runs.join(tid, run["run_id"])
    key = client.http.client.headers["x-api-key"]
    async with SessionMaker() as session:
        expire = update(ApiKey).where(col(ApiKey.user_id) == owner.user.id)
        await session.exec(expire.values(expires_at=utcnow()))
        await session.commit()
    # Written by SQL behind the app's back (the key had no expiry when it was cached): as once
    # the auth cache's entry lapses (AUTH_CACHE_SECONDS). An expiry set at creation is checked
    # on every cached request (tests/api/routes/test_api_keys.py).
    session_cache.forget(None)
    base = protocol_url.removesuffix(settings.AGENT_PROTOCOL_PATH)
    async with httpx.AsyncClient(base_url=base, headers=owner.headers, timeout=30) as http:
        fresh = (await http.post(f"{API}/api-keys", json={"name": "b"})).json()
        revoked = await http.delete(f"{API}/api-keys/{fresh['id']}")
        assert revoked.status_code == 200
        for stale in (key, fresh["key"]):
            for method, path, body in ENDPOINTS:
                url = path.format(tid=tid, rid=run["run_id"])
                response = await _raw(protocol_url, {"X-Api-Key": stale}, method, url, json=body)
                assert response.status_code == 401, (method, path, response.text)
                assert response.json()["code"] == "invalid_api_key"
        # Nothing was started, changed or deleted by those calls.
        runs = (await http.get(f"{API}/agent/runs", params={"thread_id": tid})).json()
        assert [r["id"] for r in runs["data"]] == [run["run_id"]]


async def test_unauthenticated_is_401(protocol_url) -> None:
    assert (await _raw(protocol_url, {}, "POST", "/threads/search", json={})).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert (await _raw(protocol_url, bad, "POST", "/threads", json={})).status_code == 401
    assert (await _raw(protocol_url, {}, "GET", "/info")).status_code == 200


async def _running(client, tid: str, run_id: str) -> None:
    for _ in range(100):
        if (await client.runs.get(tid, run_id))["status"] == "running":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the run never started")


async def test_reject_interrupt_and_enqueue_on_a_busy_thread(slow_sdk_client) -> None:
    client, _ = await slow_sdk_client()
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(
        tid, "agent", input={"messages": [{"type": "human", "content": "tell me a long story"}]}
    )
    with pytest.raises(httpx.HTTPStatusError) as busy:
        await client.runs.create(tid, "agent", input=HELLO, multitask_strategy="reject")
    assert _status(busy) == 409
    queued = await client.runs.create(tid, "agent", input=HELLO, multitask_strategy="enqueue")
    await client.runs.join(tid, queued["run_id"])
    done = {r["run_id"]: r["status"] for r in await client.runs.list(tid)}
    assert done == {first["run_id"]: "success", queued["run_id"]: "success"}
    # The enqueued run started after the first one ended: its turn comes second.
    humans = [
        m["content"]
        for m in (await client.threads.get_state(tid))["values"]["messages"]
        if m["type"] == "human"
    ]
    assert humans == ["tell me a long story", "hello"]
    slow = await client.runs.create(
        tid, "agent", input={"messages": [{"type": "human", "content": "another long story"}]}
    )
    await _running(client, tid, slow["run_id"])
    replacing = await client.runs.wait(tid, "agent", input=HELLO, multitask_strategy="interrupt")
    assert replacing["messages"][-1]["type"] == "ai"
    assert (await client.runs.get(tid, slow["run_id"]))["status"] == "interrupted"
    humans = [m["content"] for m in replacing["messages"] if m["type"] == "human"]
    assert humans == ["tell me a long story", "hello", "another long story", "hello"]
    # rollback: the cancelled run's turn is taken back (it stays in the run history).
    doomed = await client.runs.create(
        tid, "agent", input={"messages": [{"type": "human", "content": "doomed story"}]}
    )
    await _running(client, tid, doomed["run_id"])
    rolled = await client.runs.wait(
        tid,
        "agent",
        input={"messages": [{"type": "human", "content": "instead"}]},
        multitask_strategy="rollback",
    )
    humans = [m["content"] for m in rolled["messages"] if m["type"] == "human"]
    assert humans[-2:] == ["hello", "instead"] and "doomed story" not in humans
    assert (await client.runs.get(tid, doomed["run_id"]))["status"] == "interrupted"


async def test_rejoin_with_last_event_id_and_cancel(slow_sdk_client) -> None:
    client, _ = await slow_sdk_client()
    tid = (await client.threads.create())["thread_id"]
    modes = ["values", "messages-tuple", "custom"]
    seen: list[Any] = []
    async for part in client.runs.stream(
        tid,
        "agent",
        input={"messages": [{"type": "human", "content": "tell me a story"}]},
        stream_mode=modes,
        on_disconnect="continue",
    ):
        seen.append(part)
        if len(seen) == 4:
            break
    run_id = seen[0].data["run_id"]
    last_id = seen[-1].id
    assert last_id
    rest = [
        p
        async for p in client.runs.join_stream(
            tid, run_id, stream_mode=modes, last_event_id=last_id
        )
    ]
    ids = [p.id for p in seen + rest if p.id]
    assert rest and rest[-1].event == "end"
    # Every event once: ids never go back (one log entry can carry several events).
    assert ids == sorted(ids, key=lambda i: tuple(int(x) for x in i.split("-")))
    whole = [p async for p in client.runs.join_stream(tid, run_id, stream_mode=modes)]
    assert [p.event for p in whole] == [p.event for p in seen + rest]
    # `-1` (what the JS SDK's useStream sends to rejoin) replays the run from its start.
    replayed = [
        p async for p in client.runs.join_stream(tid, run_id, stream_mode=modes, last_event_id="-1")
    ]
    assert [p.event for p in replayed] == [p.event for p in whole]
    # Cancel a slow run: it ends interrupted, with an error event on its stream.
    slow = await client.runs.create(
        tid, "agent", input={"messages": [{"type": "human", "content": "a very long story"}]}
    )
    await _running(client, tid, slow["run_id"])
    cancelled = await client.runs.cancel(tid, slow["run_id"])
    assert cancelled["status"] == "interrupted"
    tail = [p async for p in client.runs.join_stream(tid, slow["run_id"], stream_mode=modes)]
    assert tail[-2].event == "error" and tail[-2].data["error"] == "cancelled"
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_stateless_runs(sdk_client) -> None:
    client, _ = await sdk_client()
    values = await client.runs.wait(None, "agent", input=HELLO)
    assert values["messages"][-1]["type"] == "ai"
    parts = [
        p
        async for p in client.runs.stream(
            None, "agent", input=HELLO, stream_mode="values", on_completion="keep"
        )
    ]
    kept = parts[0].data["run_id"]
    assert parts[-1].event == "end"
    threads = await client.threads.search()
    assert len(threads) == 1  # the waited run's thread was deleted; the kept one stays
    assert (await client.runs.list(threads[0]["thread_id"]))[0]["run_id"] == kept


async def test_runs_are_our_runs(sdk_client, protocol_url, hook) -> None:
    client, _ = await sdk_client(auth="bearer")
    headers = dict(client.http.client.headers)
    tid = (await client.threads.create())["thread_id"]
    message = {"type": "human", "content": f'post "hi" to {hook["url"]}'}
    await client.runs.wait(tid, "agent", input={"messages": [message]})
    await client.runs.wait(
        tid, "agent", command=Command(resume={"decisions": [{"type": "approve"}]})
    )
    base = protocol_url.removesuffix(settings.AGENT_PROTOCOL_PATH)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        history = (await http.get(f"{API}/agent/runs", params={"thread_id": tid})).json()
        approvals = (await http.get(f"{API}/agent/approvals")).json()
        thread = (await http.get(f"{API}/agent/threads/{tid}")).json()
    assert history["count"] == 1 and history["data"][0]["status"] == "success"
    assert history["data"][0]["tool_call_count"] == 1 and history["data"][0]["model"]
    decided = approvals["data"][0]
    assert decided["status"] == "approved" and decided["decided_by"] is not None
    assert decided["thread_id"] == tid
    assert thread["messages"][0]["role"] == "user"
    assert len(hook["received"]) == 1


async def test_budgets_apply(slow_sdk_client, agent_settings) -> None:
    agent_settings(AGENT_MAX_CONCURRENT_RUNS_PER_USER=1)
    client, _ = await slow_sdk_client()
    first = (await client.threads.create())["thread_id"]
    second = (await client.threads.create())["thread_id"]
    running = await client.runs.create(
        first, "agent", input={"messages": [{"type": "human", "content": "a long story"}]}
    )
    with pytest.raises(httpx.HTTPStatusError) as limited:
        await client.runs.wait(second, "agent", input=HELLO)
    assert _status(limited) == 429
    assert int(limited.value.response.headers["Retry-After"]) >= 1
    assert await client.runs.list(second) == []
    await client.runs.join(first, running["run_id"])


async def test_stream_response_says_where_to_rejoin(sdk_client, protocol_url) -> None:
    """`Location` (relative to the protocol's root, as LangGraph's server sends it) is where the
    SDKs reconnect a dropped stream, with the same stream modes."""
    client, owner = await sdk_client(auth="bearer")
    tid = (await client.threads.create())["thread_id"]
    body = {
        "assistant_id": "agent",
        "input": {"messages": [{"type": "human", "content": "hello"}]},
        "stream_mode": ["values", "custom"],
    }
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream(
            "POST", f"{protocol_url}/threads/{tid}/runs/stream", json=body, headers=owner.headers
        ) as response,
    ):
        assert response.status_code == 200
        run_path = response.headers["content-location"].removeprefix(settings.AGENT_PROTOCOL_PATH)
        location = response.headers["location"]
        async for _ in response.aiter_lines():
            pass
    assert location == f"{run_path}/stream?stream_mode=values&stream_mode=custom"
    async with httpx.AsyncClient(timeout=30) as http:
        rejoined = await http.get(
            f"{protocol_url}{location}", headers={**owner.headers, "Last-Event-ID": "-1"}
        )
    assert rejoined.status_code == 200
    events = [
        line.removeprefix("event: ")
        for line in rejoined.text.splitlines()
        if line.startswith("event: ")
    ]
    assert (
        events[0] == "metadata"
        and "values" in events
        and "custom" in events
        and events[-1] == "end"
    )


async def test_a_waiting_client_that_disconnects_cancels_its_run_with_on_disconnect_cancel(
    slow_sdk_client,
) -> None:
    """`runs.wait` given up before the run ends: `on_disconnect="cancel"` cancels the run (the
    protocol shows it `interrupted`, as LangGraph's server does); `"continue"` lets it finish."""
    client, _ = await slow_sdk_client()
    for policy, expected in (("cancel", "interrupted"), ("continue", "success")):
        tid = (await client.threads.create())["thread_id"]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                client.runs.wait(
                    tid,
                    "agent",
                    input={"messages": [{"type": "human", "content": "tell me a story"}]},
                    on_disconnect=policy,
                ),
                0.3,
            )
        for _ in range(200):
            (run,) = await client.runs.list(tid)
            if run["status"] not in ("pending", "running"):
                break
            await asyncio.sleep(0.05)
        assert run["status"] == expected, (policy, run)
