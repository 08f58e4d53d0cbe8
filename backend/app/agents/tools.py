"""The agent's tools, built per run with the caller's identity and a session factory.

Every tool returns a JSON string. A failure becomes a `{"error": ...}` result whose ToolMessage
has status `error` (how the graph, the metrics and the UI recognise it), and the run goes on.
"""

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import httpx
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agents.untrusted import EGRESS_URL_ARG, UNTRUSTED_OUTPUT
from app.agents.url_safety import UnsafeURLError, check_url
from app.core.config import Settings
from app.crud import item as crud_item
from app.crud import user as crud_user
from app.models import ItemPublic, User

# Tool metadata flag: the executor pauses for the user's approval before such a tool runs.
REQUIRES_APPROVAL = "requires_approval"


@dataclass(frozen=True)
class ToolContext:
    """Who is running the agent, and how tools reach the database and the network."""

    user_id: uuid.UUID
    is_superuser: bool
    session_factory: async_sessionmaker[AsyncSession]
    settings: Settings


class EmailInput(BaseModel):
    """Input of lookup_user_by_email."""

    email: str = Field(description="The email address of the user.")


class ItemIdInput(BaseModel):
    """Input of lookup_item_by_id."""

    item_id: str = Field(description="The item's UUID.")


class UserItemsInput(BaseModel):
    """Input of lookup_user_items."""

    email: str | None = Field(
        default=None, description="Whose items; omit for the current user's own items."
    )
    limit: int = Field(default=20, ge=1, le=100, description="At most this many items.")


class HttpGetInput(BaseModel):
    """Input of http_get."""

    url: str = Field(description="An http(s) URL to fetch.")


class HttpPostInput(BaseModel):
    """Input of http_post."""

    url: str = Field(description="An http(s) URL on an allowlisted host.")
    body: dict[str, Any] = Field(default_factory=dict, description="JSON body to send.")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _json_errors(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[str]]:
    """Run the tool; return its value as JSON. An `{"error": ...}` value or an exception raises
    ToolException with that JSON, which the tool (`handle_tool_error`) turns into its result
    with status `error`."""

    @wraps(func)
    async def wrapper(**kwargs: Any) -> str:
        try:
            value = await func(**kwargs)
        except UnsafeURLError as exc:
            value = {"error": f"refused: {exc}"}
        except httpx.HTTPError as exc:
            value = {"error": f"HTTP request failed: {type(exc).__name__}: {exc}"}
        except Exception as exc:
            value = {"error": f"{type(exc).__name__}: {exc}"}
        if isinstance(value, dict) and "error" in value:
            raise ToolException(_dumps(value))
        return _dumps(value)

    return wrapper


def _user_json(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "email": user.email,
        "full_name": user.full_name,
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
    }


def build_db_tools(ctx: ToolContext) -> list[BaseTool]:
    """Tools that read users and items, scoped to what the caller may see."""

    async def lookup_user_by_email(email: str) -> dict[str, Any]:
        async with ctx.session_factory() as session:
            user = await crud_user.get_user_by_email(session=session, email=email)
        if user is None or (not ctx.is_superuser and user.id != ctx.user_id):
            return {"error": f"no user with email {email} that you may look up"}
        return _user_json(user)

    async def lookup_item_by_id(item_id: str) -> dict[str, Any]:
        try:
            parsed = uuid.UUID(item_id)
        except ValueError:
            return {"error": f"{item_id!r} is not a valid item id"}
        async with ctx.session_factory() as session:
            viewer = await session.get(User, ctx.user_id)
            item = viewer and await crud_item.get_item_for(
                session=session, user=viewer, item_id=parsed
            )
        if not item:
            return {"error": f"no item {item_id} that you may look up"}
        return ItemPublic.model_validate(item).model_dump(mode="json")

    async def lookup_user_items(email: str | None = None, limit: int = 20) -> dict[str, Any]:
        async with ctx.session_factory() as session:
            viewer = await session.get(User, ctx.user_id)
            if viewer is None:
                return {"error": "the current user no longer exists"}
            owner = viewer
            if email and email.lower() != viewer.email.lower():
                other = await crud_user.get_user_by_email(session=session, email=email)
                if other is None or not ctx.is_superuser:
                    return {"error": f"no user with email {email} whose items you may list"}
                owner = other
            items, count = await crud_item.list_items_for(
                session=session, user=viewer, limit=limit, owner_id=owner.id
            )
        return {
            "owner": owner.email,
            "count": count,
            "items": [ItemPublic.model_validate(i).model_dump(mode="json") for i in items],
        }

    return [
        StructuredTool.from_function(
            handle_tool_error=True,
            coroutine=_json_errors(lookup_user_by_email),
            name="lookup_user_by_email",
            description="Look up a user by email (normal users may only look up themselves).",
            args_schema=EmailInput,
        ),
        StructuredTool.from_function(
            handle_tool_error=True,
            coroutine=_json_errors(lookup_item_by_id),
            name="lookup_item_by_id",
            description="Look up one item by its UUID.",
            args_schema=ItemIdInput,
        ),
        StructuredTool.from_function(
            handle_tool_error=True,
            coroutine=_json_errors(lookup_user_items),
            name="lookup_user_items",
            description="List the items of the current user (superusers: of any user by email).",
            args_schema=UserItemsInput,
        ),
    ]


async def _guarded_request(
    ctx: ToolContext, method: str, url: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Send one request, re-checking every redirect hop, reading at most the size cap."""
    config = ctx.settings
    allowed = list(config.AGENT_HTTP_ALLOWED_HOSTS)
    cap = config.AGENT_HTTP_MAX_RESPONSE_BYTES
    async with httpx.AsyncClient(
        timeout=config.AGENT_HTTP_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
    ) as client:
        for _ in range(config.AGENT_HTTP_MAX_REDIRECTS + 1):
            await check_url(
                url,
                allowed_hosts=allowed,
                require_allowlisted=method == "POST",
                test_hosts=list(config.AGENT_HTTP_TEST_HOSTS),
            )
            request = client.build_request(method, url, json=body if method == "POST" else None)
            response = await client.send(request, stream=True)
            try:
                if response.is_redirect and "location" in response.headers:
                    url = str(response.url.join(response.headers["location"]))
                    if response.status_code in (301, 302, 303):
                        method, body = "GET", None
                    continue
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > cap:
                        break
                content = b"".join(chunks)[:cap]
                result: dict[str, Any] = {
                    "url": str(response.url),
                    "status_code": response.status_code,
                    "content_type": response.headers.get("content-type"),
                    "truncated": size > cap,
                    "body": content.decode(response.encoding or "utf-8", errors="replace"),
                }
                if size > cap:
                    result["note"] = (
                        f"truncated: only the first {cap} bytes of a longer response "
                        "(AGENT_HTTP_MAX_RESPONSE_BYTES)"
                    )
                return result
            finally:
                await response.aclose()
    raise UnsafeURLError(f"too many redirects (max {config.AGENT_HTTP_MAX_REDIRECTS})")


def build_http_tools(ctx: ToolContext) -> list[BaseTool]:
    """http_get (public or allowlisted hosts) and http_post (allowlisted hosts only)."""

    async def http_get(url: str) -> dict[str, Any]:
        return await _guarded_request(ctx, "GET", url)

    async def http_post(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return await _guarded_request(ctx, "POST", url, body or {})

    return [
        StructuredTool.from_function(
            handle_tool_error=True,
            coroutine=_json_errors(http_get),
            name="http_get",
            description="Fetch a public web page or API over HTTP GET.",
            args_schema=HttpGetInput,
            metadata={UNTRUSTED_OUTPUT: True, EGRESS_URL_ARG: "url"},
        ),
        StructuredTool.from_function(
            handle_tool_error=True,
            coroutine=_json_errors(http_post),
            name="http_post",
            description="Send a JSON body with HTTP POST to an allowlisted host.",
            args_schema=HttpPostInput,
            metadata={REQUIRES_APPROVAL: True, UNTRUSTED_OUTPUT: True, EGRESS_URL_ARG: "url"},
        ),
    ]


def build_tools(ctx: ToolContext) -> list[BaseTool]:
    """Every tool available to the executor for this run."""
    return [*build_db_tools(ctx), *build_http_tools(ctx)]


def approval_required_tools(tools: list[BaseTool], config: Settings) -> frozenset[str]:
    """Tools flagged `requires_approval`, plus any named in AGENT_APPROVAL_REQUIRED_TOOLS."""
    flagged = {tool.name for tool in tools if (tool.metadata or {}).get(REQUIRES_APPROVAL)}
    return frozenset(flagged | set(config.AGENT_APPROVAL_REQUIRED_TOOLS))


def tool_args_schema(tools: list[BaseTool], name: str) -> type[BaseModel] | dict[str, Any] | None:
    """A tool's input schema (Pydantic, or JSON Schema for MCP tools), for validating edits."""
    for tool in tools:
        schema = tool.args_schema
        if tool.name != name:
            continue
        if isinstance(schema, dict):
            return schema
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            return schema
    return None
