"""Agent API on the real PostgreSQL checkpointer: runs, streams, threads, isolation, faults."""

import asyncio
import uuid

import httpx
import pytest

from app.core.config import settings
from tests.support.live_server import serve
from tests.support.sse import collect_sse, iter_sse
from tests.utils import API, create_item, create_user_and_login


async def _run(client, headers, message: str, thread_id: str | None = None) -> httpx.Response:
    body = {"message": message} | ({"thread_id": thread_id} if thread_id else {})
    return await client.post(f"{API}/agent/run", json=body, headers=headers)


async def test_run_is_logged_and_listed(client) -> None:
    headers, user = await create_user_and_login(client)
    item = await create_item(user.id, title="Green mug")
    result = (await _run(client, headers, f"what is item {item.id}?")).json()
    assert result["status"] == "success"
    assert "Green mug" in result["response"]
    assert result["tool_calls"][0]["name"] == "lookup_item_by_id"
    assert result["tool_calls"][0]["ok"] is True
    assert result["latency_ms"] >= 0
    runs = (await client.get(f"{API}/agent/runs", headers=headers)).json()
    assert runs["count"] == 1
    run = runs["data"][0]
    assert run["id"] == result["run_id"]
    assert run["status"] == "success"
    assert run["tool_call_count"] == 1
    assert run["total_tokens"] == result["total_tokens"] > 0
    assert run["prompt_tokens"] + run["completion_tokens"] == run["total_tokens"]
    detail = (await client.get(f"{API}/agent/runs/{result['run_id']}", headers=headers)).json()
    assert detail["tool_calls"][0]["output"] and "Green mug" in detail["tool_calls"][0]["output"]
    assert detail["input"] == f"what is item {item.id}?"
    assert detail["finished_at"] is not None


async def test_stream_events_in_order(client) -> None:
    headers, user = await create_user_and_login(client)
    # Enough items for an answer longer than the guardrails' stream hold-back (128 characters),
    # so it arrives in several token events.
    for title in ("Yellow kite", "Blue bucket", "Red spade"):
        await create_item(user.id, title=title)
    async with client.stream(
        "POST", f"{API}/agent/run/stream", json={"message": "show my items"}, headers=headers
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = await collect_sse(response)
    types = [event["type"] for event in events]
    assert types[0] == "run_started" and types[-1] == "run_completed"
    assert (
        types.index("plan")
        < types.index("tool_call")
        < types.index("tool_result")
        < types.index("token")
    )
    assert types.count("token") >= 3
    tool_call = next(e for e in events if e["type"] == "tool_call")
    tool_result = next(e for e in events if e["type"] == "tool_result")
    assert tool_call["name"] == tool_result["name"] == "lookup_user_items"
    assert tool_call["id"] == tool_result["id"] and tool_result["ok"] is True
    answer = "".join(e["text"] for e in events if e["type"] == "token")
    completed = events[-1]
    assert completed["response"] == answer and "Yellow kite" in answer
    assert completed["run_id"] == events[0]["run_id"]
    assert completed["status"] == "success"


async def test_multi_turn_survives_restart(client, fresh_client) -> None:
    headers, _ = await create_user_and_login(client)
    first = (await _run(client, headers, "My favourite colour is teal.")).json()
    thread_id = first["thread_id"]
    # A second app instance: new checkpointer pool, new models, same database.
    second = (await _run(fresh_client, headers, "What did I say earlier?", thread_id)).json()
    assert second["thread_id"] == thread_id
    assert "My favourite colour is teal." in second["response"]
    thread = (await fresh_client.get(f"{API}/agent/threads/{thread_id}", headers=headers)).json()
    assert [m["role"] for m in thread["messages"]] == ["user", "assistant", "user", "assistant"]
    assert thread["title"] == "My favourite colour is teal."
    threads = (await client.get(f"{API}/agent/threads", headers=headers)).json()
    assert threads["count"] == 1 and threads["data"][0]["run_count"] == 2
    runs = (
        await client.get(f"{API}/agent/runs", params={"thread_id": thread_id}, headers=headers)
    ).json()
    assert runs["count"] == 2


async def test_isolation_matrix(client, superuser_token_headers) -> None:
    owner, _ = await create_user_and_login(client)
    other, _ = await create_user_and_login(client)
    result = (await _run(client, owner, "hello there")).json()
    run_id, thread_id = result["run_id"], result["thread_id"]
    for method, path in [
        ("GET", f"/agent/runs/{run_id}"),
        ("POST", f"/agent/runs/{run_id}/cancel"),
        ("GET", f"/agent/threads/{thread_id}"),
        ("DELETE", f"/agent/threads/{thread_id}"),
    ]:
        response = await client.request(method, f"{API}{path}", headers=other)
        assert response.status_code == 404, (method, path, response.text)
        assert "detail" in response.json()
    hijack = await _run(client, other, "continue someone else's thread", thread_id)
    assert hijack.status_code == 404
    async with client.stream(
        "POST",
        f"{API}/agent/run/stream",
        json={"message": "hi", "thread_id": thread_id},
        headers=other,
    ) as response:
        assert response.status_code == 404
    assert (await client.get(f"{API}/agent/runs", headers=other)).json()["count"] == 0
    assert (await client.get(f"{API}/agent/threads", headers=other)).json()["count"] == 0
    # Superusers may read everything, but not continue another user's thread.
    admin_view = await client.get(f"{API}/agent/runs/{run_id}", headers=superuser_token_headers)
    assert admin_view.status_code == 200
    assert (
        await client.get(f"{API}/agent/threads/{thread_id}", headers=superuser_token_headers)
    ).status_code == 200
    assert (await client.get(f"{API}/agent/runs", headers=superuser_token_headers)).json()[
        "count"
    ] == 1
    assert (await _run(client, superuser_token_headers, "hi", thread_id)).status_code == 404


async def test_bad_input(client, normal_user_token_headers) -> None:
    headers = normal_user_token_headers
    too_long = "x" * (settings.AGENT_MAX_INPUT_CHARS + 1)
    for body in (
        {"message": ""},
        {"message": "   "},
        {"message": too_long},
        {"message": "hi", "thread_id": "not-a-uuid"},
        {},
        {"message": 5},
    ):
        response = await client.post(f"{API}/agent/run", json=body, headers=headers)
        assert response.status_code == 422, body
        assert isinstance(response.json()["detail"], list)
    response = await client.post(f"{API}/agent/run/stream", json={"message": ""}, headers=headers)
    assert response.status_code == 422
    assert (await client.get(f"{API}/agent/runs/not-a-uuid", headers=headers)).status_code == 422
    assert (
        await client.get(f"{API}/agent/runs/{uuid.uuid4()}", headers=headers)
    ).status_code == 404
    assert (
        await client.get(f"{API}/agent/runs", params={"status": "bogus"}, headers=headers)
    ).status_code == 422
    assert (await client.post(f"{API}/agent/run", json={"message": "hi"})).status_code == 401
    runs = (await client.get(f"{API}/agent/runs", headers=headers)).json()
    assert runs["count"] == 0  # refused input never creates a run


async def test_delete_thread_keeps_runs(client) -> None:
    headers, _ = await create_user_and_login(client)
    result = (await _run(client, headers, "remember this")).json()
    thread_id = result["thread_id"]
    response = await client.delete(f"{API}/agent/threads/{thread_id}", headers=headers)
    assert response.status_code == 200
    assert (
        await client.get(f"{API}/agent/threads/{thread_id}", headers=headers)
    ).status_code == 404
    assert (await client.get(f"{API}/agent/threads", headers=headers)).json()["count"] == 0
    run = (await client.get(f"{API}/agent/runs/{result['run_id']}", headers=headers)).json()
    assert run["thread_deleted"] is True and run["response"]
    assert (
        await client.delete(f"{API}/agent/threads/{thread_id}", headers=headers)
    ).status_code == 404


async def test_runs_filters_and_pagination(client) -> None:
    headers, _ = await create_user_and_login(client)
    first = (await _run(client, headers, "one")).json()
    for text in ("two", "three"):
        await _run(client, headers, text, first["thread_id"])
    await _run(client, headers, "elsewhere")
    page = (await client.get(f"{API}/agent/runs", params={"limit": 2}, headers=headers)).json()
    assert page["count"] == 4 and [r["input"] for r in page["data"]] == ["elsewhere", "three"]
    page2 = (
        await client.get(f"{API}/agent/runs", params={"limit": 2, "skip": 2}, headers=headers)
    ).json()
    assert [r["input"] for r in page2["data"]] == ["two", "one"]
    by_thread = (
        await client.get(
            f"{API}/agent/runs", params={"thread_id": first["thread_id"]}, headers=headers
        )
    ).json()
    assert by_thread["count"] == 3
    by_status = (
        await client.get(f"{API}/agent/runs", params={"status": "error"}, headers=headers)
    ).json()
    assert by_status["count"] == 0
    threads = (await client.get(f"{API}/agent/threads", headers=headers)).json()
    assert [t["title"] for t in threads["data"]] == ["elsewhere", "one"]


async def test_agent_config(client, normal_user_token_headers) -> None:
    config = (await client.get(f"{API}/agent/config", headers=normal_user_token_headers)).json()
    assert config["max_input_chars"] == settings.AGENT_MAX_INPUT_CHARS
    assert config["protocol_path"] == settings.AGENT_PROTOCOL_PATH
    assert config["model_provider"] == "offline"
    # No MCP servers configured: the built-in tools only, with their approval needs.
    [group] = config["tool_groups"]
    assert group["source"] == "built-in" and group["status"] == "ok"
    needs = {tool["name"]: tool["needs_approval"] for tool in group["tools"]}
    assert needs == {
        "lookup_user_by_email": False,
        "lookup_item_by_id": False,
        "lookup_user_items": False,
        "http_get": False,
        "http_post": True,
    }


async def test_cancel_endpoint_and_disconnect(app, agent_settings) -> None:
    agent_settings(OFFLINE_MODEL_TOKENS_PER_SECOND=20.0)
    from app.main import create_app

    live_app = create_app()
    async with (
        serve(live_app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        headers, _ = await create_user_and_login(http)
        # 1. Cancel through the endpoint while the answer streams.
        async with http.stream(
            "POST",
            f"{API}/agent/run/stream",
            json={"message": "tell me something"},
            headers=headers,
        ) as response:
            events = iter_sse(response)
            started = await anext(events)
            run_id = started["run_id"]
            first_token = await anext(e async for e in events if e["type"] == "token")
            assert first_token["text"]
            cancel = await http.post(f"{API}/agent/runs/{run_id}/cancel", headers=headers)
            assert cancel.status_code == 200, cancel.text
            assert cancel.json()["status"] == "cancelled"
            rest = [e async for e in events]
        assert rest[-1]["type"] == "error" and rest[-1]["code"] == "cancelled"
        again = await http.post(f"{API}/agent/runs/{run_id}/cancel", headers=headers)
        assert again.status_code == 409
        # 2. A client that disconnects cancels its run.
        async with http.stream(
            "POST", f"{API}/agent/run/stream", json={"message": "tell me more"}, headers=headers
        ) as response:
            events = iter_sse(response)
            run_id = (await anext(events))["run_id"]
            await anext(e async for e in events if e["type"] == "token")
        for _ in range(100):
            run = (await http.get(f"{API}/agent/runs/{run_id}", headers=headers)).json()
            if run["status"] not in ("pending", "running"):
                break
            await asyncio.sleep(0.05)
        assert run["status"] == "cancelled"
        assert run["finished_at"] is not None
        # 3. With on_disconnect=continue the run goes on without its client and can be rejoined.
        body = {"message": "tell me more", "on_disconnect": "continue"}
        async with http.stream(
            "POST", f"{API}/agent/run/stream", json=body, headers=headers
        ) as response:
            events = iter_sse(response)
            run_id = (await anext(events))["run_id"]
            await anext(e async for e in events if e["type"] == "token")
        async with http.stream(
            "GET", f"{API}/agent/runs/{run_id}/stream", headers=headers
        ) as response:
            rejoined = [e async for e in iter_sse(response)]
        assert rejoined[0]["type"] == "run_started"
        assert rejoined[-1]["type"] == "run_completed" and rejoined[-1]["status"] == "success"


async def _newest_settled_run(http: httpx.AsyncClient, headers: dict[str, str]) -> dict:
    for _ in range(200):
        run = (await http.get(f"{API}/agent/runs", params={"limit": 1}, headers=headers)).json()
        newest = run["data"][0]
        if newest["status"] not in ("pending", "running"):
            return newest
        await asyncio.sleep(0.05)
    raise AssertionError(f"the run never ended: {newest}")


async def test_a_waiting_client_that_disconnects_cancels_its_run_unless_continue(
    app, agent_settings
) -> None:
    """POST /agent/run: a client that gives up before the answer cancels the run (over a real
    server: an in-process transport never disconnects); `on_disconnect=continue` keeps it."""
    agent_settings(OFFLINE_MODEL_LATENCY_MS=500)
    from app.main import create_app

    async with (
        serve(create_app()) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        headers, _ = await create_user_and_login(http)
        for policy, expected in (("cancel", "cancelled"), ("continue", "success")):
            body = {"message": f"leave early ({policy})", "on_disconnect": policy}
            with pytest.raises(httpx.ReadTimeout):
                await http.post(f"{API}/agent/run", json=body, headers=headers, timeout=0.3)
            run = await _newest_settled_run(http, headers)
            assert run["input"] == body["message"]
            assert run["status"] == expected, run
