"""AGENT_MCP_SERVERS parsing: JSON or a file, transports, names and allow/deny lists."""

import json

import pytest
from pydantic import ValidationError

from app.agents.mcp.config import parse_servers


def test_json_and_file_give_the_same_servers(tmp_path) -> None:
    raw = {
        "docs": {"url": "https://mcp.example.com/mcp", "deny_tools": ["drop"]},
        "files": {"transport": "stdio", "command": "uvx", "allow_tools": ["read"]},
    }
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(raw))
    assert parse_servers(json.dumps(raw)) == parse_servers(str(path))
    servers = parse_servers(str(path))
    assert servers["docs"].transport == "streamable_http"
    assert servers["docs"].exposes("search") and not servers["docs"].exposes("drop")
    assert servers["files"].exposes("read") and not servers["files"].exposes("write")
    assert parse_servers("  ") == {}


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"a": {"transport": "stdio"}}, "needs `command`"),
        ({"a": {"transport": "streamable_http"}}, "needs `url`"),
        ({"a": {"command": "x", "transport": "stdio", "user_headers": {"X": "1"}}}, "HTTP"),
        ({"bad name!": {"url": "https://x.example"}}, "pattern"),
        ({"a": {"url": "https://x.example", "unknown": 1}}, "Extra inputs"),
        ({"a": {"url": "https://x.example", "user_headers": {"X": "{email}"}}}, "only {user_id}"),
        ({"a": {"url": "https://x.example", "user_headers": {"X": "{user_id"}}}, "user_headers"),
    ],
)
def test_invalid_configurations_say_why(config, problem) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_servers(json.dumps(config))
    assert problem in str(raised.value)
