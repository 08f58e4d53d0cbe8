"""HTTP shapes of runs shared by the agent and approval routes: SSE streams and results."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import structlog
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.agents.schemas import AgentRunResult, AgentStreamEnvelope, ErrorEvent
from app.services.runs import cancel, prepare, recorder, streams
from app.services.runs.errors import QueueUnavailableError, RunFailedError, RunNotFoundError
from app.services.runs.events import LoggedEvent
from app.services.runs.runtime import RunRuntime

logger = structlog.get_logger(__name__)

SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events; each `data:` is an AgentStreamEnvelope's `event`, "
        "each `id:` the event's id in the run's log (send it back as `Last-Event-ID`).",
        "model": AgentStreamEnvelope,
        "content": {"text/event-stream": {}},
    },
}
# Codes a non-streaming caller gets as a result (200), not as an error status.
RESULT_CODES = frozenset({"cancelled", "tool_failed"})


def event_stream(
    runtime: RunRuntime,
    run_id: uuid.UUID,
    cursor: str | None,
    *,
    cancel_on_disconnect: bool,
    joining: bool = False,
) -> EventSourceResponse:
    """A run's events as Server-Sent Events (`id:`, `event:` and JSON `data:` each)."""

    async def events() -> AsyncIterator[ServerSentEvent]:
        ended = False
        try:
            async for event in streams.follow(runtime, run_id, cursor, joining=joining):
                yield ServerSentEvent(data=event.data, event=event.type, id=event.id)
            ended = True
        except (QueueUnavailableError, SQLAlchemyTimeoutError) as exc:
            # The stream ends with an event, not a dropped line; retrying later may work.
            ended = True
            message = (
                exc.message
                if isinstance(exc, QueueUnavailableError)
                else "The service is busy, please retry shortly"
            )
            error = ErrorEvent(code="unavailable", message=message, run_id=run_id)
            yield ServerSentEvent(data=error.model_dump_json(), event=error.type)
        except Exception:
            ended = True
            logger.exception("runs.stream_failed", run_id=str(run_id))
            error = ErrorEvent(code="internal", message="Internal error", run_id=run_id)
            yield ServerSentEvent(data=error.model_dump_json(), event=error.type)
        finally:
            if not ended and cancel_on_disconnect:
                runtime.spawn(cancel.cancel_quietly(runtime, run_id))

    return EventSourceResponse(events(), ping=15, headers={"X-Accel-Buffering": "no"})


async def result_of(end: LoggedEvent, run_id: uuid.UUID) -> AgentRunResult:
    """The result a non-streaming caller gets for the event that ended the run."""
    if end.type == "run_completed":
        return AgentRunResult.model_validate_json(end.data)
    row = await recorder.read_run(run_id)
    if row is None:
        raise RunNotFoundError()
    error = ErrorEvent.model_validate_json(end.data)
    result = recorder.result_from_row(row)
    if error.code in RESULT_CODES:
        return result
    raise RunFailedError(error.code, error.message, result)


async def wait_for_result(runtime: RunRuntime, queued: prepare.QueuedRun) -> AgentRunResult:
    """Wait for the run's result; the caller going away cancels the run."""
    try:
        end = await streams.wait_for_end(runtime, queued.run_id, queued.cursor)
    except asyncio.CancelledError:
        runtime.spawn(cancel.cancel_quietly(runtime, queued.run_id))
        raise
    return await result_of(end, queued.run_id)
