"""MCP tools in the agent: a real FastMCP server over streamable HTTP and stdio, approvals,
limits, per-user headers, a server that goes away and comes back, and refused configurations."""

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from app.agents.graph import AgentContext, build_graph
from app.agents.llm import ChatModels
from app.agents.mcp.manager import open_mcp
from app.agents.offline_model import OfflineChatModel
from app.agents.tools import approval_required_tools
from app.core.config import settings
from tests.observability.helpers import scrape, value
from tests.support.mcp import McpProcess, http_server, servers, stdio_server
from tests.support.postgres import free_port
from tests.utils import API, create_user_and_login

MANAGER_LOG = "app.agents.mcp.manager"


@pytest.fixture(scope="module")
def mcp_http() -> Iterator[McpProcess]:
    """One FastMCP server over streamable HTTP for the module."""
    server = McpProcess(free_port())
    server.start()
    yield server
    server.stop()


async def ask(client: Any, headers: dict[str, str], message: str) -> dict[str, Any]:
    response = await client.post(f"{API}/agent/run", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def health(client: Any) -> dict[str, Any]:
    response = await client.get(f"{API}/utils/health-check/")
    assert response.status_code == 200, response.text
    return response.json()


class Events(logging.Handler):
    """The MCP manager's log events (on its own logger: the app replaces the root's handlers)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, dict):
            self.records.append(record.msg)

    def named(self, event: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["event"] == event]


@pytest.fixture
def events() -> Iterator[Events]:
    logger = logging.getLogger(MANAGER_LOG)
    handler, level = Events(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_http_tools_run_with_approval_by_default(
    mcp_http, agent_settings, fresh_client_factory
) -> None:
    # kb_write_note is listed but not read-only: listing alone doesn't skip the approval.
    agent_settings(
        AGENT_MCP_SERVERS=servers(kb=http_server(mcp_http.url)),
        AGENT_MCP_AUTO_APPROVE=["kb_echo", "kb_write_note"],
    )
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        assert (await health(client))["checks"]["mcp"] == "ok"
        config = (await client.get(f"{API}/agent/config", headers=headers)).json()
        groups = {g["source"]: g for g in config["tool_groups"]}
        assert list(groups) == ["built-in", "mcp:kb"]
        assert groups["mcp:kb"]["status"] == "ok"
        listed = {t["name"]: t for t in groups["mcp:kb"]["tools"]}
        assert sorted(listed) == [
            "kb_echo", "kb_huge", "kb_lookup", "kb_slow", "kb_whoami", "kb_write_note"
        ]  # fmt: skip
        assert listed["kb_echo"] == {
            "name": "kb_echo",
            "description": "Repeat the text back.",
            "needs_approval": False,
        }
        assert listed["kb_lookup"]["needs_approval"] is True
        assert listed["kb_write_note"]["needs_approval"] is True
        built_in = {t["name"]: t["needs_approval"] for t in groups["built-in"]["tools"]}
        assert built_in["http_post"] is True and built_in["lookup_user_items"] is False

        before = await scrape(client)
        echoed = await ask(client, headers, 'use kb_echo with {"text": "hi there"}')
        assert echoed["status"] == "success", echoed
        assert [(c["name"], c["ok"]) for c in echoed["tool_calls"]] == [("kb_echo", True)]
        assert "echo: hi there" in echoed["response"]
        after = await scrape(client)
        calls = {"server": "kb", "tool": "echo", "status": "success"}
        assert (
            value(after, "mcp_tool_calls_total", **calls)
            - value(before, "mcp_tool_calls_total", **calls)
            == 1
        )
        assert value(after, "mcp_server_up", server="kb") == 1

        # Read-only but not in AGENT_MCP_AUTO_APPROVE: asks first.
        looked_up = await ask(client, headers, 'use kb_lookup with {"key": "alpha"}')
        assert looked_up["status"] == "awaiting_approval"
        assert looked_up["pending_approval"]["tool"] == "kb_lookup"

        note = await ask(client, headers, 'use kb_write_note with {"text": "remember"}')
        assert note["status"] == "awaiting_approval"
        url = (
            f"{API}/agent/threads/{note['thread_id']}/approvals/"
            f"{note['pending_approval']['approval_id']}"
        )
        # Edited arguments are checked against the tool's JSON Schema.
        for bad in ({"text": 5}, {}):
            invalid = await client.post(
                url, json={"decision": "edit", "args": bad}, headers=headers
            )
            assert invalid.status_code == 422, invalid.text
        done = await client.post(
            url, json={"decision": "edit", "args": {"text": "edited"}}, headers=headers
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "success"
        assert "stored note" in done.json()["tool_calls"][0]["output"]


async def test_malformed_schema_and_hanging_tool(
    mcp_http, agent_settings, fresh_client_factory, events
) -> None:
    agent_settings(
        AGENT_MCP_SERVERS=servers(kb=http_server(mcp_http.url)),
        AGENT_MCP_AUTO_APPROVE=["kb_slow", "kb_broken"],
        AGENT_MCP_TOOL_TIMEOUT_SECONDS=2.0,
    )
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        # The malformed schema: left out with a warning; the server's other tools are there.
        skipped = events.named("mcp.tool_skipped")
        assert [(s["tool"], "input schema is invalid" in s["reason"]) for s in skipped] == [
            ("broken", True)
        ]
        assert "slow" in events.named("mcp.server_connected")[0]["tools"]
        broken = await ask(client, headers, 'use kb_broken with {"value": "x"}')
        assert broken["tool_calls"] == [] and broken["status"] == "success"

        hanging = await ask(client, headers, 'use kb_slow with {"seconds": 30}')
        assert hanging["status"] == "success"
        [call] = hanging["tool_calls"]
        assert call["ok"] is False
        assert "did not answer slow within 2 s" in call["output"]
        assert "could not complete" in hanging["response"]


async def test_huge_output_is_capped(mcp_http, agent_settings, fresh_client_factory) -> None:
    agent_settings(
        AGENT_MCP_SERVERS=servers(kb=http_server(mcp_http.url)),
        AGENT_MCP_AUTO_APPROVE=["kb_huge"],
        AGENT_MCP_MAX_OUTPUT_BYTES=2000,
    )
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        big = await ask(client, headers, 'use kb_huge with {"size": 50000000}')  # 50 MB
        [call] = big["tool_calls"]
        assert call["ok"] is True, call["output"]
        assert "truncated: the tool returned more than 2000 bytes" in call["output"]
        assert call["output"].count("x") == 2000
        assert len(big["response"]) < 4000


async def test_per_user_header_reaches_the_server(
    mcp_http, agent_settings, fresh_client_factory
) -> None:
    agent_settings(
        AGENT_MCP_SERVERS=servers(
            kb=http_server(mcp_http.url, user_headers={"X-User-Id": "{user_id}"})
        ),
        AGENT_MCP_AUTO_APPROVE=["kb_whoami"],
    )
    async with fresh_client_factory() as client:
        for _ in range(2):
            headers, user = await create_user_and_login(client)
            run = await ask(client, headers, "use kb_whoami with {}")
            assert f"user: {user.id}" in run["tool_calls"][0]["output"]


async def test_stdio_server_is_spawned_once_and_used(agent_settings, fresh_client_factory) -> None:
    agent_settings(
        AGENT_MCP_SERVERS=servers(local=stdio_server()), AGENT_MCP_AUTO_APPROVE=["local_lookup"]
    )
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        for key, meaning in (("alpha", "first letter"), ("omega", "last letter")):
            run = await ask(client, headers, f'use local_lookup with {{"key": "{key}"}}')
            assert run["status"] == "success"
            assert meaning in run["tool_calls"][0]["output"]
        assert (await health(client))["checks"]["mcp"] == "ok"


async def _until(check: Any, seconds: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never met"
        await asyncio.sleep(0.1)


async def test_server_restart_tools_vanish_then_return(
    agent_settings, fresh_client_factory, events
) -> None:
    server = McpProcess(free_port())
    server.start()
    agent_settings(
        AGENT_MCP_SERVERS=servers(kb=http_server(server.url)),
        AGENT_MCP_AUTO_APPROVE=["kb_echo"],
        AGENT_MCP_PING_INTERVAL_SECONDS=0.3,
        AGENT_MCP_TOOL_TIMEOUT_SECONDS=2.0,
    )
    try:
        async with fresh_client_factory() as client:
            headers, _ = await create_user_and_login(client)
            message = 'use kb_echo with {"text": "ping"}'
            assert (await ask(client, headers, message))["tool_calls"][0]["ok"] is True

            server.stop()

            async def degraded() -> bool:
                body = await health(client)
                return body["checks"]["mcp"] == "degraded" and body["status"] == "degraded"

            await _until(degraded)
            assert events.named("mcp.server_down")[0]["server"] == "kb"
            without = await ask(client, headers, message)  # no 5xx: the tool is just gone
            assert without["status"] == "success" and without["tool_calls"] == []

            server.start()

            async def healthy() -> bool:
                return (await health(client))["checks"]["mcp"] == "ok"

            await _until(healthy)
            assert events.named("mcp.server_connected")[-1]["reconnected"] is True
            back = await ask(client, headers, message)
            assert back["tool_calls"][0]["ok"] is True
            assert "echo: ping" in back["response"]
    finally:
        server.stop()


async def test_private_url_is_refused_at_start_up(
    agent_settings, fresh_client_factory, events
) -> None:
    port = free_port()  # nothing listens: the refusal must come before any connection
    agent_settings(
        AGENT_MCP_SERVERS=servers(
            internal={"transport": "streamable_http", "url": f"http://127.0.0.1:{port}/mcp"}
        )
    )
    async with fresh_client_factory() as client:
        [warning] = events.named("mcp.server_refused")
        assert warning["server"] == "internal" and "loopback" in warning["reason"]
        body = await health(client)
        assert body["checks"]["mcp"] == "degraded" and body["status"] == "degraded"
        headers, _ = await create_user_and_login(client)
        run = await ask(client, headers, "hello")
        assert run["status"] == "success"


class Recorder(BaseCallbackHandler):
    """What the models were shown and which tools ran with which trace metadata."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.tool_runs: list[tuple[str, dict[str, Any], list[str]]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.prompts.append(messages[0][0].text)

    def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
        self.tool_runs.append((serialized["name"], kwargs["metadata"], kwargs["tags"]))


async def test_planner_sees_mcp_tools_and_traces_name_the_server(mcp_http) -> None:
    config = settings.model_copy(
        update={
            "AGENT_MCP_SERVERS": servers(kb=http_server(mcp_http.url)),
            "AGENT_MCP_AUTO_APPROVE": ["kb_echo"],
        }
    )
    async with open_mcp(config) as mcp:
        tools = mcp.tools_for("someone")
        context = AgentContext(
            models=ChatModels.of(OfflineChatModel()),
            tools=tools,
            max_tool_calls=4,
            approval_tools=approval_required_tools(tools, config),
        )
        recorder = Recorder()
        state = await build_graph(InMemorySaver()).ainvoke(
            {"messages": [HumanMessage('use kb_echo with {"text": "traced"}')]},
            {"configurable": {"thread_id": "t"}, "callbacks": [recorder]},
            context=context,
        )
    planner_prompt = recorder.prompts[0]
    assert "- kb_echo: Repeat the text back." in planner_prompt
    assert "- kb_write_note: Store a note on the server" in planner_prompt
    assert state["plan_steps"][0]["tool"] == "kb_echo"
    [(name, metadata, tags)] = recorder.tool_runs
    assert name == "kb_echo" and metadata["mcp_server"] == "kb" and "mcp:kb" in tags
