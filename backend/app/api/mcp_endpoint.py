"""Our agent as an MCP server: `ask_agent`, `list_threads`, `get_run` over streamable HTTP.

Authenticated like the Agent Protocol (X-Api-Key or a bearer access token, resolved by
`services.auth.credentials`); a request without valid credentials is refused with 401 before
it reaches the MCP session manager. Runs started here are ordinary runs (event log, trace,
budgets, approvals): one that needs an approval returns at once with a link to decide it.
Stateless with JSON responses, so any API replica can answer any request.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from app.agents.schemas import AgentRunRequest
from app.api.rate_limit import acquire_agent_run
from app.api.run_responses import wait_for_result
from app.core.config import settings
from app.core.db import SessionMaker
from app.models import User
from app.services import agent_runs
from app.services.auth.credentials import user_for_credentials
from app.services.runs import prepare, threads
from app.services.runs.errors import RunFailedError, RunNotFoundError
from app.services.runs.runtime import RunRuntime

USER_KEY, RUNTIME_KEY = "mcp_user", "mcp_runtime"
READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


def _http_request(ctx: Context) -> Request:  # type: ignore[type-arg]
    """The HTTP request carrying this tool call."""
    request = ctx.request_context.request
    assert isinstance(request, Request)
    return request


def _caller(ctx: Context) -> tuple[User, RunRuntime]:  # type: ignore[type-arg]
    """The authenticated user and the run layer, left in the request state by McpEndpoint."""
    request = _http_request(ctx)
    return request.state.mcp_user, request.state.mcp_runtime


def approval_link(thread_id: uuid.UUID) -> str:
    """Where the user decides a pending approval (the Chat page of that thread)."""
    return f"{settings.FRONTEND_HOST.rstrip('/')}/chat?thread={thread_id}"


async def ask_agent(
    message: Annotated[str, Field(min_length=1, description="What to ask the agent.")],
    ctx: Context,  # type: ignore[type-arg]
    thread_id: Annotated[
        uuid.UUID | None, Field(description="Continue this conversation (omit for a new one).")
    ] = None,
) -> dict[str, Any]:
    """Ask the agent; returns its answer with the run and thread ids. A run that needs your
    approval returns `awaiting_approval` and a link to decide it instead of waiting."""
    user, runtime = _caller(ctx)
    await acquire_agent_run(user.id)  # the same per-user budget as POST /agent/run
    request = AgentRunRequest(message=message, thread_id=thread_id)
    queued = await prepare.start_run(runtime, user, request, stream_tokens=False)
    try:
        result = await wait_for_result(runtime, queued, _http_request(ctx), owns_connection=False)
    except RunFailedError as exc:
        result = exc.result
    answer: dict[str, Any] = {
        "answer": result.response,
        "run_id": str(result.run_id),
        "thread_id": str(result.thread_id),
        "status": result.status,
    }
    if result.error:
        answer["error"] = result.error
    if result.pending_approval is not None:
        pending = result.pending_approval
        answer["pending_approval"] = {
            "tool": pending.tool,
            "args": pending.args,
            "reason": pending.reason,
            "approval_id": pending.approval_id,
            "decide_at": approval_link(result.thread_id),
        }
    return answer


async def list_threads(
    ctx: Context,  # type: ignore[type-arg]
    limit: Annotated[int, Field(ge=1, le=200)] = 20,
    skip: Annotated[int, Field(ge=0)] = 0,
) -> dict[str, Any]:
    """Your conversations with the agent, most recent first."""
    user, _ = _caller(ctx)
    async with SessionMaker() as session:
        page = await threads.list_threads(session, user, skip=skip, limit=limit)
    return page.model_dump(mode="json")


async def get_run(run_id: uuid.UUID, ctx: Context) -> dict[str, Any]:  # type: ignore[type-arg]
    """One of your runs: status, answer, tool calls and evaluations."""
    user, _ = _caller(ctx)
    async with SessionMaker() as session:
        detail = await agent_runs.run_detail(session, user, run_id)
    if detail is None:
        raise RunNotFoundError()
    return detail.model_dump(mode="json")


def build_mcp_server() -> FastMCP:
    """A FastMCP server with the agent's tools (one per app: its session manager runs once)."""
    server: FastMCP = FastMCP(
        "agent",
        instructions="Ask this app's agent questions; read your threads and runs.",
        stateless_http=True,
        json_response=True,
        # Callers authenticate with headers a browser page can't forge, so DNS rebinding (what
        # this protects against for unauthenticated local servers) gains an attacker nothing.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    server.add_tool(ask_agent, annotations=ToolAnnotations(readOnlyHint=False))
    server.add_tool(list_threads, annotations=READ_ONLY)
    server.add_tool(get_run, annotations=READ_ONLY)
    server.streamable_http_app()  # creates the session manager the endpoint hands requests to
    return server


@asynccontextmanager
async def serving(server: FastMCP) -> AsyncIterator[None]:
    """Run the server's session manager for the app's lifetime, in a task of its own: its anyio
    task group must be left by the task that entered it, and lifespans may end elsewhere."""
    stop = asyncio.Event()
    started = asyncio.Event()

    async def run() -> None:
        async with server.session_manager.run():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run(), name="mcp-endpoint")
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # it failed to start: raise why
    try:
        yield
    finally:
        stop.set()
        await task


class McpEndpoint:
    """ASGI: authenticate, then hand the request to the MCP server's session manager."""

    def __init__(self, server: FastMCP, runtime_of: Any) -> None:
        self.server = server
        self.runtime_of = runtime_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse without valid credentials (401); otherwise serve the MCP request."""
        request = Request(scope)
        api_key = request.headers.get("x-api-key")
        authorization = request.headers.get("authorization", "")
        bearer = authorization[7:] if authorization.lower().startswith("bearer ") else None
        async with SessionMaker() as session:
            user = await user_for_credentials(session, api_key=api_key, bearer=bearer)
        if user is None:
            response = JSONResponse(
                {"detail": "Could not validate credentials (X-Api-Key or bearer token)"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[USER_KEY], state[RUNTIME_KEY] = user, self.runtime_of()
        await self.server.session_manager.handle_request(scope, receive, send)
