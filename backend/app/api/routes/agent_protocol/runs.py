"""Runs on a thread: start (background, stream, wait), list, read, join, rejoin, cancel."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sse_starlette import EventSourceResponse

from app.api.deps import RuntimeDep
from app.api.errors import ErrorBody, authenticated_responses, error_responses
from app.api.routes.agent_protocol.deps import ProtocolUser, agent_protocol_rate_limit
from app.api.routes.agent_protocol.responses import (
    SSE_RESPONSES,
    content_location,
    final_values,
    protocol_stream,
)
from app.services.protocol import runs
from app.services.protocol.schemas import ProtocolRun, RunCreate, RunStatusName
from app.services.runs import streams
from app.services.runs.prepare import QueuedRun

router = APIRouter(prefix="/threads/{thread_id}/runs", responses=authenticated_responses())
NOT_FOUND = error_responses(404)
START_ERRORS = error_responses(404, 409, 429)
RATE_LIMITED = [Depends(agent_protocol_rate_limit)]
REPLAY_FROM_START = "-1"  # the SDK's `Last-Event-ID` for "everything the run has streamed"


@router.post("", response_model=ProtocolRun, dependencies=RATE_LIMITED, responses=START_ERRORS)
async def create_run(
    thread_id: uuid.UUID,
    body: RunCreate,
    user: ProtocolUser,
    runtime: RuntimeDep,
    response: Response,
) -> Any:
    """Start a run in the background; join or stream it later."""
    queued = await runs.start(runtime, user, thread_id, body)
    response.headers["Content-Location"] = content_location(queued.thread_id, queued.run_id)
    return runs.protocol_run(await runs.owned_run(user, queued.thread_id, queued.run_id))


@router.post(
    "/stream",
    response_class=EventSourceResponse,
    dependencies=RATE_LIMITED,
    responses={**SSE_RESPONSES, **START_ERRORS},
)
async def stream_run(
    thread_id: uuid.UUID, body: RunCreate, user: ProtocolUser, runtime: RuntimeDep
) -> EventSourceResponse:
    """Start a run and stream its events in the requested stream modes (the run is cancelled
    when the client disconnects unless `on_disconnect` is `continue`)."""
    queued = await runs.start(runtime, user, thread_id, body)
    return protocol_stream(
        runtime,
        queued,
        body.modes(),
        cancel_on_disconnect=(body.on_disconnect or "cancel") == "cancel",
    )


@router.post("/wait", dependencies=RATE_LIMITED, responses=START_ERRORS)
async def wait_run(
    thread_id: uuid.UUID, body: RunCreate, user: ProtocolUser, runtime: RuntimeDep, request: Request
) -> Response:
    """Start a run and answer with the thread's values when it ends (`__error__` if it failed;
    with `on_disconnect=cancel`, disconnecting before then cancels the run)."""
    queued = await runs.start(runtime, user, thread_id, body, waited=True)
    return await final_values(
        runtime, queued, request, cancel_on_disconnect=body.on_disconnect == "cancel"
    )


@router.get("", response_model=list[ProtocolRun], responses=NOT_FOUND)
async def list_runs(
    thread_id: uuid.UUID,
    user: ProtocolUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    status: RunStatusName | None = None,
) -> Any:
    """The thread's runs, newest first."""
    return await runs.list_runs(user, thread_id, limit=limit, offset=offset, status=status)


@router.get("/{run_id}", response_model=ProtocolRun, responses=NOT_FOUND)
async def read_run(thread_id: uuid.UUID, run_id: uuid.UUID, user: ProtocolUser) -> Any:
    """One run."""
    return runs.protocol_run(await runs.owned_run(user, thread_id, run_id))


@router.get("/{run_id}/join", responses=NOT_FOUND)
async def join_run(
    thread_id: uuid.UUID,
    run_id: uuid.UUID,
    user: ProtocolUser,
    runtime: RuntimeDep,
    request: Request,
) -> Response:
    """Wait for the run to end; answer with the thread's values."""
    await runs.owned_run(user, thread_id, run_id)
    cursor = await streams.join_cursor(runtime, run_id, None)
    queued = QueuedRun(run_id, thread_id, cursor)
    return await final_values(runtime, queued, request, cancel_on_disconnect=False)


@router.get(
    "/{run_id}/stream",
    response_class=EventSourceResponse,
    responses={
        **SSE_RESPONSES,
        **NOT_FOUND,
        400: {"model": ErrorBody, "description": "Last-Event-ID is not an event id of this run"},
    },
)
async def join_run_stream(
    thread_id: uuid.UUID,
    run_id: uuid.UUID,
    user: ProtocolUser,
    runtime: RuntimeDep,
    stream_mode: Annotated[
        list[str] | None, Query(description="Stream modes (repeatable).")
    ] = None,
    cancel_on_disconnect: bool = False,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> EventSourceResponse:
    """Rejoin the run's stream: every event after `Last-Event-ID` (else, or with `-1` as the
    SDK's `joinStream` sends it, from the start of its latest execution), then the live tail."""
    await runs.owned_run(user, thread_id, run_id)
    if last_event_id == REPLAY_FROM_START:
        last_event_id = None
    cursor = await streams.join_cursor(runtime, run_id, last_event_id)
    queued = QueuedRun(run_id, thread_id, cursor)
    modes = runs.query_modes(stream_mode)
    return protocol_stream(
        runtime, queued, modes, cancel_on_disconnect=cancel_on_disconnect, joining=True
    )


@router.post("/{run_id}/cancel", response_model=ProtocolRun, responses=NOT_FOUND)
async def cancel_run(
    thread_id: uuid.UUID,
    run_id: uuid.UUID,
    user: ProtocolUser,
    runtime: RuntimeDep,
    wait: bool = False,  # noqa: ARG001  (the SDK sends it; a cancel always waits briefly)
    action: Annotated[str, Query(pattern="^(interrupt|rollback)$")] = "interrupt",  # noqa: ARG001
) -> Any:
    """Cancel the run (it ends `interrupted`); `wait` and `action` are accepted, and the run
    is always waited for briefly and kept in the history."""
    return await runs.cancel_run(runtime, user, thread_id, run_id)
