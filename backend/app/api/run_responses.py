"""HTTP shapes of runs shared by the agent and approval routes: SSE streams and results."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import structlog
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.agents.schemas import AgentRunResult, AgentStreamEnvelope, ErrorEvent
from app.services.protocol.stream import ProtocolStream
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
# LF line endings, what hand-written SSE clients split on. CRLF (sse-starlette's default) parses
# in the LangGraph SDKs and eventsource-parser too, and costs a byte more per line.
SEP = "\n"


def event_stream(
    runtime: RunRuntime,
    run_id: uuid.UUID,
    cursor: str | None,
    *,
    cancel_on_disconnect: bool,
    joining: bool = False,
    protocol: ProtocolStream | None = None,
    headers: dict[str, str] | None = None,
) -> EventSourceResponse:
    """A run's events as Server-Sent Events (`id:`, `event:` and JSON `data:` each): ours, or
    the Agent Protocol's when `protocol` translates them."""

    def ours(event: LoggedEvent) -> list[ServerSentEvent]:
        if event.type == "state":  # logged for Agent Protocol clients only
            return []
        return [ServerSentEvent(data=event.data, event=event.type, id=event.id, sep=SEP)]

    def translated(event: LoggedEvent) -> list[ServerSentEvent]:
        assert protocol is not None
        return [
            ServerSentEvent(data=out.encoded(), event=out.event, id=out.id, sep=SEP)
            for out in protocol.translate(event)
        ]

    def failure(code: Literal["unavailable", "internal"], message: str) -> list[ServerSentEvent]:
        if protocol is not None:
            return [
                ServerSentEvent(data=out.encoded(), event=out.event, sep=SEP)
                for out in protocol.failure(code, message)
            ]
        error = ErrorEvent(code=code, message=message, run_id=run_id)
        return [ServerSentEvent(data=error.model_dump_json(), event=error.type, sep=SEP)]

    convert = ours if protocol is None else translated

    async def events() -> AsyncIterator[ServerSentEvent]:
        ended = False
        try:
            async for event in streams.follow(runtime, run_id, cursor, joining=joining):
                for sse in convert(event):
                    yield sse
            ended = True
        except (QueueUnavailableError, SQLAlchemyTimeoutError) as exc:
            # The stream ends with an event, not a dropped line; retrying later may work.
            ended = True
            message = (
                exc.message
                if isinstance(exc, QueueUnavailableError)
                else "The service is busy, please retry shortly"
            )
            for sse in failure("unavailable", message):
                yield sse
        except Exception:
            ended = True
            logger.exception("runs.stream_failed", run_id=str(run_id))
            for sse in failure("internal", "Internal error"):
                yield sse
        finally:
            if not ended and cancel_on_disconnect:
                runtime.spawn(cancel.cancel_quietly(runtime, run_id))

    return EventSourceResponse(
        events(), ping=15, sep=SEP, headers={"X-Accel-Buffering": "no", **(headers or {})}
    )


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
