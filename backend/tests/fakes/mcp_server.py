"""A real MCP server for tests (FastMCP from the official SDK), over streamable HTTP or stdio.

`python -m tests.fakes.mcp_server http PORT` or `python -m tests.fakes.mcp_server stdio`.
Tools: read-only `echo`, `lookup` and `whoami` (the caller's X-User-Id header), side-effecting
`write_note`, `slow` (sleeps), `huge` (returns `size` bytes) and `broken` (a malformed input
schema the agent must leave out).
"""

import asyncio
import sys

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.tools import Tool
from mcp.types import ToolAnnotations

READ_ONLY = ToolAnnotations(readOnlyHint=True)
NOTES: list[str] = []


def echo(text: str) -> str:
    """Repeat the text back."""
    return f"echo: {text}"


def lookup(key: str) -> str:
    """Look a key up in the server's table."""
    return {"alpha": "first letter", "omega": "last letter"}.get(key, "unknown key")


def whoami(ctx: Context) -> str:  # type: ignore[type-arg]
    """Which user the caller says it acts for (the X-User-Id header)."""
    request = ctx.request_context.request
    headers = getattr(request, "headers", {})
    return f"user: {headers.get('x-user-id', 'anonymous')}"


def write_note(text: str) -> str:
    """Store a note on the server (a side effect)."""
    NOTES.append(text)
    return f"stored note {len(NOTES)}"


async def slow(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return "finally"


def huge(size: int) -> str:
    """Return `size` bytes of text."""
    return "x" * size


def broken(value: str) -> str:
    """A tool whose published input schema is malformed."""
    return value


def server(port: int = 0) -> FastMCP:
    """The FastMCP server with every tool."""
    malformed = Tool.from_function(broken)
    malformed.parameters = {"type": "object", "properties": {"value": {"type": "no-such-type"}}}
    tools = [
        Tool.from_function(echo, annotations=READ_ONLY),
        Tool.from_function(lookup, annotations=READ_ONLY),
        Tool.from_function(whoami, annotations=READ_ONLY),
        Tool.from_function(write_note),
        Tool.from_function(slow, annotations=READ_ONLY),
        Tool.from_function(huge, annotations=READ_ONLY),
        malformed,
    ]
    return FastMCP("test-tools", tools=tools, host="127.0.0.1", port=port, log_level="WARNING")


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        server().run("stdio")
    else:
        server(int(sys.argv[2])).run("streamable-http")
