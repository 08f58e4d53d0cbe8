"""HTTP shapes shared by the protocol's run routes: the SSE stream and the final values."""

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from app.agents.schemas import ErrorEvent
from app.agents.service import jsonable
from app.api.run_responses import end_of_run, event_stream
from app.core.config import settings
from app.services.protocol.state import interrupts_of
from app.services.protocol.stream import ProtocolStream
from app.services.runs.events import LoggedEvent
from app.services.runs.prepare import QueuedRun
from app.services.runs.runtime import RunRuntime

SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events as LangGraph SDK clients parse them: `metadata`, "
        "`values`, `updates`, `messages` (`[chunk, metadata]`), `messages/partial|complete`, "
        "`custom`, `error`, `end`; each `id:` is the event's id in the run's log (send it back "
        "as `Last-Event-ID` to rejoin). A run that completes closes with a "
        "second `metadata` event before `end`: `{run_id, attempt, status, mode, "
        "degraded_reason, model}` (`mode`: `normal` or `degraded`; `model`: the one that "
        "answered).",
        "content": {"text/event-stream": {}},
    },
}


def content_location(thread_id: uuid.UUID, run_id: uuid.UUID) -> str:
    """Where the run lives (the SDK reads the run and thread ids from it)."""
    return f"{settings.AGENT_PROTOCOL_PATH}/threads/{thread_id}/runs/{run_id}"


def stream_location(thread_id: uuid.UUID, run_id: uuid.UUID, modes: list[str]) -> str:
    """Where to rejoin the stream, relative to the protocol's root as LangGraph's own server
    sends it: the SDK reconnects there (with `Last-Event-ID`) when the connection drops."""
    query = urlencode([("stream_mode", mode) for mode in modes])
    return f"/threads/{thread_id}/runs/{run_id}/stream" + (f"?{query}" if query else "")


def protocol_stream(
    runtime: RunRuntime,
    queued: QueuedRun,
    modes: list[str],
    *,
    cancel_on_disconnect: bool,
    joining: bool = False,
) -> EventSourceResponse:
    """The run's events in the protocol's shape."""
    translator = ProtocolStream(frozenset(modes), queued.run_id, queued.thread_id)
    return event_stream(
        runtime,
        queued.run_id,
        queued.cursor,
        cancel_on_disconnect=cancel_on_disconnect,
        joining=joining,
        protocol=translator,
        headers={
            "Content-Location": content_location(queued.thread_id, queued.run_id),
            "Location": stream_location(queued.thread_id, queued.run_id, modes),
        },
    )


def _error_of(end: LoggedEvent) -> dict[str, Any] | None:
    if end.type != "error":
        return None
    error = ErrorEvent.model_validate_json(end.data)
    return {"error": error.code, "message": error.message}


async def final_values(
    runtime: RunRuntime, queued: QueuedRun, request: Request, *, cancel_on_disconnect: bool
) -> Response:
    """The thread's values once the run's execution ends (`__error__` when it failed)."""
    end = await end_of_run(
        runtime, queued.run_id, queued.cursor, request, cancel_on_disconnect=cancel_on_disconnect
    )
    snapshot = await runtime.agent.state(queued.thread_id)
    values: dict[str, Any] = jsonable(snapshot.values) if snapshot is not None else {}
    if snapshot is not None and (paused := interrupts_of(snapshot)):
        values["__interrupt__"] = paused
    if (error := _error_of(end)) is not None:
        values = {"__error__": error}
    return JSONResponse(
        values,
        headers={"Content-Location": content_location(queued.thread_id, queued.run_id)},
    )
