"""Long-lived connections to the configured MCP servers, opened once per process.

Each server has a supervisor task that connects, lists the tools, pings the server every
AGENT_MCP_PING_INTERVAL_SECONDS and reconnects after a failure; while a server is down its
tools are left out (warning, `mcp_server_up` 0, health check `degraded`) and they come back
when it does. The session lives inside its supervisor task because the SDK's transports are
anyio task groups that must be entered and left by the same task.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import structlog
from langchain_core.tools import BaseTool
from langchain_mcp_adapters.sessions import Connection, create_session
from mcp import ClientSession
from mcp.types import PaginatedRequestParams
from mcp.types import Tool as McpTool

from app.agents.mcp.config import McpServerConfig, parse_servers
from app.agents.mcp.convert import schema_problem, to_langchain
from app.agents.url_safety import UnsafeURLError, check_url
from app.core import metrics
from app.core.config import Settings

logger = structlog.get_logger(__name__)
FIRST_CONNECT_WAIT_SECONDS = 10.0


@dataclass
class ServerState:
    """What this process knows about one server right now."""

    name: str
    config: McpServerConfig
    status: str = "connecting"
    definitions: list[McpTool] = field(default_factory=list)
    shared_tools: list[BaseTool] = field(default_factory=list)
    first_attempt: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def up(self) -> bool:
        """Connected, with its tools listed."""
        return self.status == "ok"


def connection_for(config: McpServerConfig, headers: dict[str, str] | None = None) -> Connection:
    """The adapter's connection settings for a server."""
    if config.transport == "stdio":
        assert config.command is not None
        return {
            "transport": "stdio",
            "command": config.command,
            "args": config.args,
            "env": config.env,
        }
    assert config.url is not None
    return {
        "transport": "streamable_http",
        "url": config.url,
        "headers": {**config.headers, **(headers or {})},
    }


class McpManager:
    """The MCP servers of this process and the tools they offer now."""

    def __init__(self, config: Settings) -> None:
        self.settings = config
        self.servers = {
            name: ServerState(name, server)
            for name, server in parse_servers(config.AGENT_MCP_SERVERS).items()
        }

    async def start(self) -> None:
        """Start a supervisor per allowed server; wait (briefly) for their first connection."""
        for state in self.servers.values():
            if not await self._url_allowed(state):
                continue
            state.task = asyncio.create_task(self._supervise(state), name=f"mcp:{state.name}")
        waiting = [s.first_attempt.wait() for s in self.servers.values() if s.task is not None]
        if waiting:
            await asyncio.wait(
                [asyncio.ensure_future(w) for w in waiting], timeout=FIRST_CONNECT_WAIT_SECONDS
            )

    async def stop(self) -> None:
        """Close every connection (stdio servers are stopped)."""
        tasks = [s.task for s in self.servers.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _url_allowed(self, state: ServerState) -> bool:
        """The HTTP tools' SSRF rules, unless the server opts out; a refusal is a warning."""
        config = state.config
        if config.transport != "streamable_http" or config.allow_private_network:
            return True
        assert config.url is not None
        try:
            await check_url(
                config.url, allowed_hosts=[], test_hosts=list(self.settings.AGENT_HTTP_TEST_HOSTS)
            )
        except UnsafeURLError as exc:
            state.status = f"refused: {exc}"
            metrics.MCP_SERVER_UP.labels(server=state.name).set(0)
            logger.warning(
                "mcp.server_refused",
                server=state.name,
                reason=str(exc),
                hint="set allow_private_network for this server to reach a private address",
            )
            return False
        return True

    async def _supervise(self, state: ServerState) -> None:
        interval = self.settings.AGENT_MCP_PING_INTERVAL_SECONDS
        timeout = self.settings.AGENT_MCP_TOOL_TIMEOUT_SECONDS
        while True:
            try:
                async with create_session(connection_for(state.config)) as session:
                    await asyncio.wait_for(session.initialize(), timeout)
                    definitions = await asyncio.wait_for(_list_tools(session), timeout)
                    self._connected(state, session, definitions)
                    while True:
                        await asyncio.sleep(interval)
                        await asyncio.wait_for(session.send_ping(), timeout)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # anyio raises exception groups
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # being stopped, whatever the transport wrapped it in
                self._down(state, exc)
            await asyncio.sleep(interval)

    def _connected(self, state: ServerState, session: ClientSession, tools: list[McpTool]) -> None:
        usable: list[McpTool] = []
        for tool in tools:
            if not state.config.exposes(tool.name):
                continue
            if problem := schema_problem(tool, state.name):
                logger.warning(
                    "mcp.tool_skipped", server=state.name, tool=tool.name, reason=problem
                )
                continue
            usable.append(tool)
        state.definitions = usable
        state.shared_tools = [
            to_langchain(tool, state.name, self.settings, session=session) for tool in usable
        ]
        was = state.status
        state.status = "ok"
        state.first_attempt.set()
        metrics.MCP_SERVER_UP.labels(server=state.name).set(1)
        logger.info(
            "mcp.server_connected",
            server=state.name,
            tools=[t.name for t in usable],
            reconnected=was.startswith("down"),
        )

    def _down(self, state: ServerState, exc: BaseException) -> None:
        reason = _reason(exc)
        if state.status != f"down: {reason}":
            logger.warning("mcp.server_down", server=state.name, reason=reason, tools_left_out=True)
        state.status = f"down: {reason}"
        state.definitions, state.shared_tools = [], []
        state.first_attempt.set()
        metrics.MCP_SERVER_UP.labels(server=state.name).set(0)
        metrics.MCP_SERVER_FAILURES.labels(server=state.name).inc()

    def tools_for(self, user_id: str) -> list[BaseTool]:
        """The MCP tools available now; servers with per-user headers get them rendered."""
        tools: list[BaseTool] = []
        for state in self.servers.values():
            if not state.up:
                continue
            if not state.config.user_headers:
                tools.extend(state.shared_tools)
                continue
            headers = {k: v.format(user_id=user_id) for k, v in state.config.user_headers.items()}
            connection = connection_for(state.config, headers)
            tools.extend(
                to_langchain(
                    tool,
                    state.name,
                    self.settings,
                    session=None,
                    connection=connection,
                    headers=headers,
                )
                for tool in state.definitions
            )
        return tools

    def status(self) -> dict[str, str]:
        """Each server's state: `ok`, `connecting`, `down: …` or `refused: …`."""
        return {name: state.status for name, state in self.servers.items()}

    def health(self) -> str:
        """`disabled` (no servers), `ok`, or `degraded` (some server's tools are left out)."""
        if not self.servers:
            return "disabled"
        return "ok" if all(s.up for s in self.servers.values()) else "degraded"


async def _list_tools(session: ClientSession) -> list[McpTool]:
    """Every tool the server lists, across pages."""
    tools: list[McpTool] = []
    cursor: str | None = None
    while True:
        page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
        tools.extend(page.tools)
        cursor = page.nextCursor
        if not cursor:
            return tools


def _reason(exc: BaseException) -> str:
    """A short reason, unwrapping anyio's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"[:200]


@asynccontextmanager
async def open_mcp(config: Settings) -> AsyncIterator[McpManager]:
    """Connect to the configured MCP servers for this process's lifetime."""
    manager = McpManager(config)
    await manager.start()
    try:
        yield manager
    finally:
        await manager.stop()
