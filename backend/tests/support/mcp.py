"""Start the test MCP server (tests/fakes/mcp_server.py) as a real process on loopback."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BACKEND_DIR = Path(__file__).resolve().parents[2]


class McpProcess:
    """The FastMCP test server over streamable HTTP; stop() and start() again on one port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/mcp"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until its port accepts connections."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.mcp_server", "http", str(self.port)],
            cwd=BACKEND_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"MCP test server exited ({self.process.returncode})")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("MCP test server did not start")

    def stop(self) -> None:
        """Terminate the server (as a crash or a redeploy would)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


def http_server(url: str, **options: Any) -> dict[str, Any]:
    """An AGENT_MCP_SERVERS entry for a loopback HTTP server (opted out of the SSRF rules)."""
    return {"transport": "streamable_http", "url": url, "allow_private_network": True, **options}


def stdio_server() -> dict[str, Any]:
    """An AGENT_MCP_SERVERS entry that spawns the test server over stdio."""
    return {
        "transport": "stdio",
        "command": sys.executable,
        "args": ["-m", "tests.fakes.mcp_server", "stdio"],
        "env": {"PYTHONPATH": str(BACKEND_DIR)},
    }


def servers(**entries: dict[str, Any]) -> str:
    """AGENT_MCP_SERVERS as JSON."""
    return json.dumps(entries)
