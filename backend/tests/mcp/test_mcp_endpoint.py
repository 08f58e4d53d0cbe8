"""Our agent as an MCP server, driven by the official `mcp` SDK's client over real HTTP."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.types import CallToolResult

from app.core.config import settings
from tests.support.live_server import serve
from tests.utils import API, create_user_and_login

MCP_PATH = settings.AGENT_MCP_ENDPOINT_PATH


@pytest.fixture
async def base_url(app: Any) -> AsyncIterator[str]:
    """The app (lifespan already running) served on loopback."""
    async with serve(app, lifespan="off") as url:
        yield url


async def new_key(client: Any) -> tuple[dict[str, str], str, str]:
    """A fresh user: bearer headers, a personal API key and its id."""
    headers, _ = await create_user_and_login(client)
    response = await client.post(f"{API}/api-keys", json={"name": "ide"}, headers=headers)
    assert response.status_code == 201, response.text
    return headers, response.json()["key"], response.json()["id"]


@asynccontextmanager
async def mcp_session(base_url: str, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    async with (
        streamablehttp_client(f"{base_url}{MCP_PATH}", headers=headers) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.isError, result.content
    assert result.structuredContent is not None
    return result.structuredContent


async def test_ask_agent_list_threads_and_get_run_with_an_api_key(client, base_url) -> None:
    _, key, _ = await new_key(client)
    async with mcp_session(base_url, {"X-Api-Key": key}) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert sorted(tools) == ["ask_agent", "get_run", "list_threads"]
        assert tools["list_threads"].annotations.readOnlyHint is True
        assert tools["get_run"].annotations.readOnlyHint is True
        assert tools["ask_agent"].annotations.readOnlyHint is False

        first = data(await session.call_tool("ask_agent", {"message": "show my items"}))
        assert first["status"] == "success"
        assert "no items yet" in first["answer"]
        again = data(
            await session.call_tool(
                "ask_agent", {"message": "what did I say before?", "thread_id": first["thread_id"]}
            )
        )
        assert again["thread_id"] == first["thread_id"] and again["run_id"] != first["run_id"]
        assert "show my items" in again["answer"]

        listed = data(await session.call_tool("list_threads", {}))
        assert [t["thread_id"] for t in listed["data"]] == [first["thread_id"]]
        run = data(await session.call_tool("get_run", {"run_id": first["run_id"]}))
        assert run["id"] == first["run_id"] and run["status"] == "success"


async def test_a_run_needing_approval_returns_its_pending_state(client, base_url) -> None:
    headers, _ = await create_user_and_login(client)
    async with mcp_session(base_url, headers) as session:  # a bearer token works too
        asked = data(
            await session.call_tool(
                "ask_agent", {"message": 'post "hello" to https://hooks.example.com/in'}
            )
        )
    assert asked["status"] == "awaiting_approval"
    pending = asked["pending_approval"]
    assert pending["tool"] == "http_post"
    assert pending["args"]["url"] == "https://hooks.example.com/in"
    assert pending["decide_at"].endswith(f"/chat?thread={asked['thread_id']}")
    # The same pending approval is what the API lists: it is an ordinary run.
    listed = await client.get(
        f"{API}/agent/approvals", params={"status": "pending"}, headers=headers
    )
    assert [a["id"] for a in listed.json()["data"]] == [pending["approval_id"]]


async def test_two_users_keys_see_only_their_own(client, base_url) -> None:
    _, key_a, _ = await new_key(client)
    _, key_b, _ = await new_key(client)
    async with mcp_session(base_url, {"X-Api-Key": key_a}) as session:
        mine = data(await session.call_tool("ask_agent", {"message": "show my items"}))
    async with mcp_session(base_url, {"X-Api-Key": key_b}) as session:
        assert data(await session.call_tool("list_threads", {}))["data"] == []
        other_run = await session.call_tool("get_run", {"run_id": mine["run_id"]})
        assert other_run.isError and "Run not found" in json.dumps(other_run.model_dump())
        other_thread = await session.call_tool(
            "ask_agent", {"message": "hi", "thread_id": mine["thread_id"]}
        )
        assert other_thread.isError and "Thread not found" in json.dumps(other_thread.model_dump())


async def test_revoked_and_missing_credentials_are_refused(client, base_url) -> None:
    headers, key, key_id = await new_key(client)
    async with mcp_session(base_url, {"X-Api-Key": key}) as session:
        assert data(await session.call_tool("list_threads", {}))["count"] == 0
    revoked = await client.delete(f"{API}/api-keys/{key_id}", headers=headers)
    assert revoked.status_code == 200, revoked.text
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(base_url=base_url) as http:
        for credentials in ({"X-Api-Key": key}, {}, {"Authorization": "Bearer not-a-token"}):
            response = await http.post(MCP_PATH, json=initialize, headers={**accept, **credentials})
            assert response.status_code == 401, (credentials, response.text)
            assert response.json() == {
                "detail": "Could not validate credentials (X-Api-Key or bearer token)"
            }

    async def connect_with_revoked_key() -> BaseException | None:
        try:
            async with mcp_session(base_url, {"X-Api-Key": key}):
                return None
        except BaseException as exc:  # the SDK wraps the 401 in anyio's exception groups
            return exc

    # Its own task: the SDK's task groups must be left by the task that entered them.
    refused = await asyncio.create_task(connect_with_revoked_key())
    assert refused is not None and "401" in repr(_leaf(refused))


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


async def test_ask_agent_shares_the_per_user_agent_rate_limit(
    client, base_url, monkeypatch
) -> None:
    from app.api.rate_limit import ALL_RATE_LIMITS

    monkeypatch.setattr(settings, "RATE_LIMIT_ENABLED", True)
    monkeypatch.setattr(settings, "RATE_LIMIT_PER_MINUTE", 2)
    for limit in ALL_RATE_LIMITS:
        limit.buckets.reset()
    try:
        headers, key, _ = await new_key(client)
        # One run through the REST API and one through MCP use up the same budget of 2.
        rest = await client.post(f"{API}/agent/run", json={"message": "hi"}, headers=headers)
        assert rest.status_code == 200, rest.text
        async with mcp_session(base_url, {"X-Api-Key": key}) as session:
            assert data(await session.call_tool("ask_agent", {"message": "hi"}))["run_id"]
            refused = await session.call_tool("ask_agent", {"message": "hi"})
            assert refused.isError
            assert "Rate limit exceeded: 2 runs per" in json.dumps(refused.model_dump())
            # Reading is not limited.
            assert data(await session.call_tool("list_threads", {}))["count"] == 2
    finally:
        for limit in ALL_RATE_LIMITS:
            limit.buckets.reset()
