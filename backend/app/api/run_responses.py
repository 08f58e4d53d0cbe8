"""HTTP shapes of runs shared by the agent and approval routes: SSE streams and results."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import anyio
import structlog
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request

from app.agents.schemas import AgentRunResult, AgentStreamEnvelope, ErrorEvent
from app.api.shutdown import ShutdownWatch
from app.services.protocol.stream import ProtocolStream
from app.services.runs import cancel, prepare, recorder, streams
from app.services.runs.errors import (
    ClientGoneError,
    QueueUnavailableError,
    RunFailedError,
    RunNotFoundError,
    ServerStoppingError,
)
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
    # Set by sse-starlette when the server starts shutting down (SIGTERM). A stream that ends
    # then was cut by the server, not left by its client: its run isn't cancelled (a worker
    # goes on with it; an API process executing it records it interrupted as it stops).
    stopping = anyio.Event()

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
            if not ended and cancel_on_disconnect and not stopping.is_set():
                runtime.spawn(cancel.cancel_quietly(runtime, run_id))

    return EventSourceResponse(
        events(),
        ping=15,
        sep=SEP,
        headers={"X-Accel-Buffering": "no", **(headers or {})},
        # Runs that end within the grace finish their streams as usual.
        shutdown_event=stopping,
        shutdown_grace_period=request_grace(runtime),
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


def request_grace(runtime: RunRuntime) -> float:
    """How long a stream or a waiting request may go on once the server is stopping: a second
    less than uvicorn's graceful shutdown, so each ends itself (a request uvicorn has to cancel
    is answered 500, a stream logged as failed)."""
    return max(0, runtime.settings.GRACEFUL_SHUTDOWN_SECONDS - 1)


async def _client_gone(request: Request) -> None:
    """Return once the client has closed its connection (the body is read by now, so the next
    message the server has for this request is its disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def end_of_run(
    runtime: RunRuntime,
    run_id: uuid.UUID,
    cursor: str | None,
    request: Request,
    *,
    cancel_on_disconnect: bool,
    owns_connection: bool = True,
) -> LoggedEvent:
    """The event that ends the run, for a caller waiting without a stream.

    A client that disconnects first cancels the run with `cancel_on_disconnect` (and leaves
    it running otherwise), then gets ClientGoneError. The server stopping never cancels the
    run (a worker goes on with it; an API process executing it records it interrupted as it
    stops): a run that doesn't end within the grace is answered 503, retry later.

    Without `owns_connection` (an MCP tool call: its transport reads the connection) the
    disconnect isn't watched; the call being cancelled cancels the run, unless the server is
    stopping.
    """
    watch: ShutdownWatch = request.app.state.shutdown
    ending = asyncio.create_task(streams.wait_for_end(runtime, run_id, cursor))
    stopping = asyncio.create_task(watch.grace_over(request_grace(runtime)))
    waits = {ending, stopping}
    if owns_connection:
        waits.add(asyncio.create_task(_client_gone(request)))
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        if not owns_connection and not watch.is_stopping():
            runtime.spawn(cancel.cancel_quietly(runtime, run_id))
        raise
    finally:
        for task in waits:
            task.cancel()  # nothing to a task that has finished
    if ending in done:
        return ending.result()
    if stopping in done:
        raise ServerStoppingError()
    if cancel_on_disconnect:
        runtime.spawn(cancel.cancel_quietly(runtime, run_id))
    raise ClientGoneError()


async def wait_for_result(
    runtime: RunRuntime,
    queued: prepare.QueuedRun,
    request: Request,
    *,
    cancel_on_disconnect: bool = True,
    owns_connection: bool = True,
) -> AgentRunResult:
    """Wait for the run's result (see `end_of_run`)."""
    end = await end_of_run(
        runtime,
        queued.run_id,
        queued.cursor,
        request,
        cancel_on_disconnect=cancel_on_disconnect,
        owns_connection=owns_connection,
    )
    return await result_of(end, queued.run_id)
