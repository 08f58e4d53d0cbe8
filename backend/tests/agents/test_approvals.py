"""Human approval before side-effecting tools: approve, reject, edit, restart, timeout, isolation."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.services.runs import approvals
from tests.support.live_server import serve
from tests.support.sse import collect_sse
from tests.utils import API, create_user_and_login


@pytest.fixture
async def hook(agent_settings) -> AsyncIterator[dict[str, Any]]:
    """An allowlisted local endpoint recording what the agent POSTs to it."""
    received: list[Any] = []

    async def record(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"stored": True})

    app = Starlette(routes=[Route("/hook", record, methods=["POST"])])
    async with serve(app, lifespan="off") as base:
        agent_settings(AGENT_HTTP_ALLOWED_HOSTS=["127.0.0.1"])
        yield {"url": f"{base}/hook", "received": received}


async def _ask_to_post(client, headers, hook, text: str = "hello") -> dict[str, Any]:
    response = await client.post(
        f"{API}/agent/run", json={"message": f'post "{text}" to {hook["url"]}'}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def _decide_url(run: dict[str, Any]) -> str:
    return (
        f"{API}/agent/threads/{run['thread_id']}/approvals/{run['pending_approval']['approval_id']}"
    )


async def test_approve_runs_the_tool(client, hook) -> None:
    headers, user = await create_user_and_login(client)
    run = await _ask_to_post(client, headers, hook)
    assert run["status"] == "awaiting_approval"
    pending = run["pending_approval"]
    assert pending["tool"] == "http_post"
    assert pending["args"] == {"url": hook["url"], "body": {"message": "hello"}}
    assert "approval" in pending["reason"]
    assert hook["received"] == []  # nothing sent before the decision
    listed = (
        await client.get(f"{API}/agent/approvals", params={"status": "pending"}, headers=headers)
    ).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == pending["approval_id"]
    stored = (await client.get(f"{API}/agent/runs/{run['run_id']}", headers=headers)).json()
    assert stored["status"] == "awaiting_approval"

    done = await client.post(
        _decide_url(run), json={"decision": "approve", "comment": "ok"}, headers=headers
    )
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["status"] == "success" and result["run_id"] == run["run_id"]
    assert hook["received"] == [{"message": "hello"}]
    assert "answered 200" in result["response"]
    assert result["total_tokens"] > run["total_tokens"]  # the resumed part adds to the run's tokens
    audit = (await client.get(f"{API}/agent/approvals", headers=headers)).json()["data"][0]
    assert audit["status"] == "approved" and audit["decided_by"] == str(user.id)
    assert audit["comment"] == "ok" and audit["decided_at"] is not None
    again = await client.post(_decide_url(run), json={"decision": "approve"}, headers=headers)
    assert again.status_code == 409


async def test_reject_is_acknowledged_and_nothing_is_sent(client, hook) -> None:
    headers, _ = await create_user_and_login(client)
    run = await _ask_to_post(client, headers, hook)
    done = await client.post(
        _decide_url(run), json={"decision": "reject", "comment": "not today"}, headers=headers
    )
    result = done.json()
    assert result["status"] == "success"
    assert "refused by the user (not today)" in result["response"]
    assert hook["received"] == []
    assert result["tool_calls"][0]["ok"] is False


async def test_edit_runs_with_validated_arguments(client, hook) -> None:
    headers, _ = await create_user_and_login(client)
    run = await _ask_to_post(client, headers, hook)
    for bad in ({"url": 5}, {"url": hook["url"], "body": "not an object"}):
        invalid = await client.post(
            _decide_url(run), json={"decision": "edit", "args": bad}, headers=headers
        )
        assert invalid.status_code == 422, invalid.text
    assert (
        await client.post(
            _decide_url(run), json={"decision": "approve", "args": {"url": "x"}}, headers=headers
        )
    ).status_code == 422
    edited = {"url": hook["url"], "body": {"message": "edited"}}
    done = await client.post(
        _decide_url(run), json={"decision": "edit", "args": edited}, headers=headers
    )
    assert done.status_code == 200 and done.json()["status"] == "success"
    assert hook["received"] == [{"message": "edited"}]
    audit = (await client.get(f"{API}/agent/approvals", headers=headers)).json()["data"][0]
    assert audit["status"] == "edited" and audit["edited_args"] == edited
    assert audit["args"]["body"] == {"message": "hello"}


async def test_approvals_of_one_thread(client, hook) -> None:
    headers, _ = await create_user_and_login(client)
    first = await _ask_to_post(client, headers, hook, "one")
    second = await _ask_to_post(client, headers, hook, "two")
    assert first["thread_id"] != second["thread_id"]
    listed = await client.get(
        f"{API}/agent/approvals", params={"thread_id": first["thread_id"]}, headers=headers
    )
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()["data"]] == [first["pending_approval"]["approval_id"]]
    everything = (await client.get(f"{API}/agent/approvals", headers=headers)).json()
    assert everything["count"] == 2
    bad = await client.get(f"{API}/agent/approvals", params={"thread_id": "x"}, headers=headers)
    assert bad.status_code == 422


async def test_other_users_cannot_see_or_decide(client, hook) -> None:
    owner, _ = await create_user_and_login(client)
    other, _ = await create_user_and_login(client)
    run = await _ask_to_post(client, owner, hook)
    response = await client.post(_decide_url(run), json={"decision": "approve"}, headers=other)
    assert response.status_code == 404
    assert (await client.get(f"{API}/agent/approvals", headers=other)).json()["count"] == 0
    by_thread = {"thread_id": run["thread_id"]}
    listed = await client.get(f"{API}/agent/approvals", params=by_thread, headers=other)
    assert listed.json()["count"] == 0
    assert hook["received"] == []
    bogus = f"{API}/agent/threads/{run['thread_id']}/approvals/{run['thread_id']}"
    assert (
        await client.post(bogus, json={"decision": "approve"}, headers=owner)
    ).status_code == 404


async def test_approval_survives_restart(client, hook, fresh_client_factory) -> None:
    headers, _ = await create_user_and_login(client)
    run = await _ask_to_post(client, headers, hook)
    async with fresh_client_factory() as restarted:
        done = await restarted.post(_decide_url(run), json={"decision": "approve"}, headers=headers)
        assert done.status_code == 200 and done.json()["status"] == "success"
    assert hook["received"] == [{"message": "hello"}]


async def test_timeout_rejects_and_finishes_the_run(client, app, hook, agent_settings) -> None:
    agent_settings(APPROVAL_TIMEOUT_MINUTES=0.001)
    headers, _ = await create_user_and_login(client)
    run = await _ask_to_post(client, headers, hook)
    await asyncio.sleep(0.2)
    assert await approvals.expire_overdue(app.state.runs) == 1
    for _ in range(100):
        stored = (await client.get(f"{API}/agent/runs/{run['run_id']}", headers=headers)).json()
        if stored["status"] not in ("pending", "running"):
            break
        await asyncio.sleep(0.05)
    assert stored["status"] == "success"
    assert "timed out" in stored["response"]
    assert hook["received"] == []
    audit = (await client.get(f"{API}/agent/approvals", headers=headers)).json()["data"][0]
    assert audit["status"] == "expired"
    late = await client.post(_decide_url(run), json={"decision": "approve"}, headers=headers)
    assert late.status_code == 409


async def test_stream_pauses_and_stream_resumes(client, hook) -> None:
    headers, _ = await create_user_and_login(client)
    message = f'post "streamed" to {hook["url"]}'
    async with client.stream(
        "POST", f"{API}/agent/run/stream", json={"message": message}, headers=headers
    ) as response:
        events = await collect_sse(response)
    types = [e["type"] for e in events]
    assert types[-2:] == ["approval_required", "run_completed"], types
    required = events[-2]
    assert required["tool"] == "http_post" and required["run_id"] == events[0]["run_id"]
    assert events[-1]["status"] == "awaiting_approval"
    url = f"{API}/agent/threads/{events[0]['thread_id']}/approvals/{required['approval_id']}/stream"
    async with client.stream(
        "POST", url, json={"decision": "approve"}, headers=headers
    ) as response:
        resumed = await collect_sse(response)
    resumed_types = [e["type"] for e in resumed]
    assert resumed_types[0] == "run_started" and resumed_types[-1] == "run_completed"
    assert "tool_result" in resumed_types and "token" in resumed_types
    assert resumed[-1]["status"] == "success"
    assert hook["received"] == [{"message": "streamed"}]


async def test_run_detail_shows_the_approval_audit(client, hook) -> None:
    """Who decided, when, the decision and the comment; the tool status says what happened."""
    headers, user = await create_user_and_login(client)
    other, _ = await create_user_and_login(client)
    approved = await _ask_to_post(client, headers, hook)
    pending = (await client.get(f"{API}/agent/runs/{approved['run_id']}", headers=headers)).json()
    [waiting] = pending["approvals"]
    assert waiting["status"] == "pending" and waiting["decided_by_email"] is None
    assert waiting["decided_at"] is None and waiting["tool"] == "http_post"
    assert pending["tool_calls"][0]["status"] == "pending"
    await client.post(
        _decide_url(approved), json={"decision": "approve", "comment": "ok"}, headers=headers
    )
    detail = (await client.get(f"{API}/agent/runs/{approved['run_id']}", headers=headers)).json()
    [audit] = detail["approvals"]
    assert audit["id"] == approved["pending_approval"]["approval_id"]
    assert audit["status"] == "approved" and audit["comment"] == "ok"
    assert audit["decided_by"] == str(user.id) and audit["decided_by_email"] == user.email
    assert audit["decided_at"] >= audit["created_at"]
    assert detail["tool_calls"][0]["status"] == "done"

    rejected = await _ask_to_post(client, headers, hook, "again")
    await client.post(
        _decide_url(rejected), json={"decision": "reject", "comment": "not today"}, headers=headers
    )
    detail = (await client.get(f"{API}/agent/runs/{rejected['run_id']}", headers=headers)).json()
    [audit] = detail["approvals"]
    assert audit["status"] == "rejected" and audit["comment"] == "not today"
    assert audit["decided_by_email"] == user.email
    # Rejected, not "failed": the same derivation as the stream and the reloaded chat.
    assert detail["tool_calls"][0]["status"] == "rejected"
    thread = (
        await client.get(f"{API}/agent/threads/{rejected['thread_id']}", headers=headers)
    ).json()
    assert [m["tool_status"] for m in thread["messages"] if m["role"] == "tool"] == ["rejected"]
    # Another user sees neither the run nor its audit.
    hidden = await client.get(f"{API}/agent/runs/{rejected['run_id']}", headers=other)
    assert hidden.status_code == 404


async def test_superseded_approval_is_audited_without_a_decider(client, hook) -> None:
    headers, _ = await create_user_and_login(client)
    run = await _ask_to_post(client, headers, hook)
    follow_up = await client.post(
        f"{API}/agent/run",
        json={"message": "never mind", "thread_id": run["thread_id"]},
        headers=headers,
    )
    assert follow_up.status_code == 200, follow_up.text
    detail = (await client.get(f"{API}/agent/runs/{run['run_id']}", headers=headers)).json()
    [audit] = detail["approvals"]
    assert audit["status"] == "superseded" and audit["decided_by_email"] is None
    assert audit["decided_at"] is not None and "new message" in audit["comment"]
