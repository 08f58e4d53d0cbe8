"""Limits on MCP tool calls: a timeout, an output cap, and failures as error results."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from langchain_core.messages import ToolMessage
from langchain_mcp_adapters.interceptors import MCPToolCallRequest
from langgraph.types import Command
from mcp.types import CallToolResult, TextContent

from app.core import metrics

logger = structlog.get_logger(__name__)

Result = CallToolResult | ToolMessage | Command[Any]
Handler = Callable[[MCPToolCallRequest], Awaitable[Result]]


def error_result(text: str) -> CallToolResult:
    """A failed call as MCP reports one: the adapter turns it into a ToolMessage with status
    `error`."""
    return CallToolResult(content=[TextContent(type="text", text=text)], isError=True)


def capped(result: CallToolResult, max_bytes: int) -> CallToolResult:
    """The result with its text cut to `max_bytes` in total (a note says so); structured
    content over the cap is dropped, other content blocks beyond it too."""
    budget = max_bytes
    kept: list[Any] = []
    cut = False
    for block in result.content:
        if isinstance(block, TextContent):
            data = block.text.encode()
            if len(data) > budget:
                kept.append(
                    block.model_copy(update={"text": data[:budget].decode(errors="ignore")})
                )
                budget, cut = 0, True
                continue
            budget -= len(data)
            kept.append(block)
        elif budget > 0:
            budget -= len(block.model_dump_json())
            kept.append(block)
        else:
            cut = True
    structured = result.structuredContent
    if structured is not None and len(str(structured)) > max_bytes:
        structured, cut = None, True
    if cut:
        kept.append(
            TextContent(
                type="text",
                text=f"[truncated: the tool returned more than {max_bytes} bytes "
                "(AGENT_MCP_MAX_OUTPUT_BYTES)]",
            )
        )
    return result.model_copy(update={"content": kept, "structuredContent": structured})


class LimitsInterceptor:
    """An adapter interceptor: per-user headers in, timeout and cap around, errors as results."""

    def __init__(self, timeout: float, max_bytes: int, headers: dict[str, str] | None) -> None:
        self.timeout, self.max_bytes, self.headers = timeout, max_bytes, headers

    async def __call__(self, request: MCPToolCallRequest, handler: Handler) -> Result:
        """Run the call within the limits."""
        if self.headers:
            request = request.override(headers=self.headers)
        server, tool = request.server_name, request.name
        try:
            result = await asyncio.wait_for(handler(request), self.timeout)
        except TimeoutError:
            metrics.MCP_TOOL_CALLS.labels(server=server, tool=tool, status="timeout").inc()
            return error_result(
                f"the MCP server {server!r} did not answer {tool} within {self.timeout:g} s "
                "(AGENT_MCP_TOOL_TIMEOUT_SECONDS)"
            )
        except Exception as exc:
            metrics.MCP_TOOL_CALLS.labels(server=server, tool=tool, status="error").inc()
            logger.warning("mcp.tool_call_failed", server=server, tool=tool, error=repr(exc))
            return error_result(
                f"the MCP server {server!r} could not run {tool}: {type(exc).__name__}"
            )
        if not isinstance(result, CallToolResult):
            return result
        status = "error" if result.isError else "success"
        metrics.MCP_TOOL_CALLS.labels(server=server, tool=tool, status=status).inc()
        return capped(result, self.max_bytes)
