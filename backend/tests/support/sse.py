"""Parse Server-Sent Events from an httpx response, event by event."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx


async def iter_sse(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Yield each event's JSON data (with the SSE `event:` name checked against `type`)."""
    event_name: str | None = None
    data_lines: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data_lines:
                payload = json.loads("\n".join(data_lines))
                assert payload["type"] == event_name, (event_name, payload)
                yield payload
            event_name, data_lines = None, []
        elif line.startswith(":"):
            continue  # comment / ping
        elif line.startswith("event:"):
            event_name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data_lines.append(line[len("data:") :].strip())


async def collect_sse(response: httpx.Response) -> list[dict[str, Any]]:
    """All events of a finished stream."""
    return [event async for event in iter_sse(response)]


async def iter_sse_ids(
    response: httpx.Response,
) -> AsyncIterator[tuple[str | None, dict[str, Any]]]:
    """Yield (`id:`, JSON data) of each event."""
    event_id: str | None = None
    data_lines: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data_lines:
                yield event_id, json.loads("\n".join(data_lines))
            event_id, data_lines = None, []
        elif line.startswith("id:"):
            event_id = line[len("id:") :].strip()
        elif line.startswith("data:"):
            data_lines.append(line[len("data:") :].strip())
