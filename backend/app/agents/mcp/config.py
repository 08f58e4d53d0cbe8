"""AGENT_MCP_SERVERS: which MCP servers the agent connects to, and how."""

import json
from pathlib import Path
from string import Formatter
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,39}$"


class McpServerConfig(BaseModel):
    """One MCP server: streamable HTTP (`url`) or stdio (`command`)."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["streamable_http", "stdio"] = "streamable_http"
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    # Sent with every tool call, rendered per caller: `{user_id}` is the only field. A server
    # with these gets a short HTTP session per call (a shared session can't carry them).
    user_headers: dict[str, str] = Field(default_factory=dict)
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] | None = None
    allow_tools: list[str] | None = None  # MCP names; None = all
    deny_tools: list[str] = Field(default_factory=list)
    # Opt out of the HTTP tools' SSRF rules for this server (e.g. a sidecar on localhost).
    allow_private_network: bool = False

    @model_validator(mode="after")
    def _transport_fields(self) -> "McpServerConfig":
        if self.transport == "streamable_http" and not self.url:
            raise ValueError("a streamable_http server needs `url`")
        if self.transport == "stdio" and not self.command:
            raise ValueError("a stdio server needs `command`")
        if self.transport == "stdio" and self.user_headers:
            raise ValueError("`user_headers` need an HTTP transport")
        for name, template in self.user_headers.items():
            try:
                fields = {field for _, field, _, _ in Formatter().parse(template) if field}
            except ValueError as exc:
                raise ValueError(f"user_headers[{name!r}]: {exc}") from exc
            if fields - {"user_id"}:
                raise ValueError(
                    f"user_headers[{name!r}] uses {sorted(fields - {'user_id'})}: "
                    "only {user_id} is filled in"
                )
        return self

    def exposes(self, tool_name: str) -> bool:
        """Whether the allow/deny lists let the agent use this tool."""
        if tool_name in self.deny_tools:
            return False
        return self.allow_tools is None or tool_name in self.allow_tools


ServerName = Annotated[str, Field(pattern=NAME_PATTERN)]
_SERVERS = TypeAdapter(dict[ServerName, McpServerConfig])


def parse_servers(value: str) -> dict[str, McpServerConfig]:
    """The servers in a JSON object, or in the JSON file `value` names; {} when empty.

    Raises ValueError (with pydantic's explanation) when the configuration is invalid.
    """
    text = value.strip()
    if not text:
        return {}
    if not text.startswith("{"):
        text = Path(text).read_text(encoding="utf-8")
    return _SERVERS.validate_python(json.loads(text))
