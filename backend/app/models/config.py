"""What the API tells clients about this deployment: the agent's configuration and tool
catalogue, the browser's public settings, and readiness."""

from typing import Literal

from pydantic import BaseModel, Field


class AgentToolPublic(BaseModel):
    """One tool the agent may call."""

    name: str
    description: str
    needs_approval: bool


class AgentToolGroup(BaseModel):
    """The tools of one source: the built-in ones, or one MCP server's."""

    source: str = Field(description="`built-in`, or `mcp:<server>`.")
    status: str = Field(
        description="`ok`; for an MCP server also `connecting`, `down: …` or `refused: …` "
        "(its tools are left out until it is back)."
    )
    tools: list[AgentToolPublic]


class AgentConfigPublic(BaseModel):
    """What the UI needs to know about the agent."""

    max_input_chars: int
    model_provider: str
    model_name: str
    tracing_enabled: bool
    protocol_path: str = Field(
        default="/agent-protocol", description="Where the Agent Protocol API is mounted."
    )
    tool_groups: list[AgentToolGroup] = Field(default_factory=list)


class ClientConfig(BaseModel):
    """Settings the browser needs before login (nothing secret)."""

    chat_image_allowed_origins: list[str]


class HealthPublic(BaseModel):
    """Readiness: `ok`, `degraded` (Redis or an MCP server down) or `error`, with each check."""

    status: Literal["ok", "degraded", "error"]
    checks: dict[str, str]
