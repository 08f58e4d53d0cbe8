"""MCP tool definitions → LangChain tools, with the server named and approval decided."""

import re
from typing import Any

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from langchain_core.tools import BaseTool
from langchain_mcp_adapters.sessions import Connection
from langchain_mcp_adapters.tools import convert_mcp_tool_to_langchain_tool
from mcp import ClientSession
from mcp.types import Tool as McpTool

from app.agents.mcp.limits import LimitsInterceptor
from app.agents.tools import REQUIRES_APPROVAL
from app.agents.untrusted import UNTRUSTED_OUTPUT
from app.core.config import Settings

MCP_SERVER = "mcp_server"  # tool metadata: the server a tool comes from
TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what every provider accepts


def agent_name(server: str, tool: str) -> str:
    """The name the agent knows an MCP tool by: `server_tool`."""
    return f"{server}_{tool}"


def schema_problem(tool: McpTool, server: str) -> str | None:
    """Why the agent can't offer this tool to a model, or None when it can."""
    if not TOOL_NAME_RE.match(agent_name(server, tool.name)):
        return f"tool name {tool.name!r} is not usable (letters, digits, _ and - only)"
    schema = tool.inputSchema
    if schema.get("type") != "object":
        return "its input schema is not a JSON object schema"
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        return f"its input schema is invalid: {exc.message}"
    return None


def needs_approval(tool: McpTool, server: str, config: Settings) -> bool:
    """True unless the server marks the tool read-only AND the operator auto-approves it."""
    read_only = bool(tool.annotations and tool.annotations.readOnlyHint)
    return not (read_only and agent_name(server, tool.name) in config.AGENT_MCP_AUTO_APPROVE)


def to_langchain(
    tool: McpTool,
    server: str,
    config: Settings,
    *,
    session: ClientSession | None,
    connection: Connection | None = None,
    headers: dict[str, str] | None = None,
) -> BaseTool:
    """One MCP tool as a LangChain tool on a shared `session`, or (per-user headers) a short
    session per call on `connection`."""
    converted = convert_mcp_tool_to_langchain_tool(
        session,
        tool,
        connection=connection,
        server_name=server,
        tool_name_prefix=True,
        tool_interceptors=[
            LimitsInterceptor(
                config.AGENT_MCP_TOOL_TIMEOUT_SECONDS, config.AGENT_MCP_MAX_OUTPUT_BYTES, headers
            )
        ],
    )
    metadata: dict[str, Any] = {
        **(converted.metadata or {}),
        MCP_SERVER: server,
        REQUIRES_APPROVAL: needs_approval(tool, server, config),
        UNTRUSTED_OUTPUT: True,  # an outside server's words: fenced before the model reads them
    }
    converted.metadata = metadata
    converted.tags = [*(converted.tags or []), f"mcp:{server}"]
    return converted
