"""Stateless runs: a thread made for one run, deleted after it unless `on_completion=keep`."""

from fastapi import APIRouter, Depends, Request, Response
from sse_starlette import EventSourceResponse

from app.api.deps import RuntimeDep
from app.api.errors import authenticated_responses, error_responses
from app.api.routes.agent_protocol.deps import ProtocolUser, agent_protocol_rate_limit
from app.api.routes.agent_protocol.responses import SSE_RESPONSES, final_values, protocol_stream
from app.services.protocol import runs
from app.services.protocol.schemas import RunCreate
from app.services.runs.errors import ClientGoneError

router = APIRouter(prefix="/runs", responses=authenticated_responses())
RATE_LIMITED = [Depends(agent_protocol_rate_limit)]


@router.post(
    "/stream",
    response_class=EventSourceResponse,
    dependencies=RATE_LIMITED,
    responses={**SSE_RESPONSES, **error_responses(429)},
)
async def stream_stateless_run(
    body: RunCreate, user: ProtocolUser, runtime: RuntimeDep
) -> EventSourceResponse:
    """Run on a new thread and stream its events."""
    queued = await runs.start(runtime, user, None, body)
    if body.on_completion == "delete":
        runtime.spawn(runs.delete_after(runtime, user, queued))
    return protocol_stream(
        runtime, queued, body.modes(), cancel_on_disconnect=body.on_disconnect != "continue"
    )


@router.post("/wait", dependencies=RATE_LIMITED, responses=error_responses(429))
async def wait_stateless_run(
    body: RunCreate, user: ProtocolUser, runtime: RuntimeDep, request: Request
) -> Response:
    """Run on a new thread and answer with its values when it ends."""
    queued = await runs.start(runtime, user, None, body, waited=True)
    delete = body.on_completion == "delete"
    try:
        answer = await final_values(
            runtime, queued, request, cancel_on_disconnect=body.on_disconnect != "continue"
        )
    except ClientGoneError:
        if delete:  # once the run has ended, as when the client stays
            runtime.spawn(runs.delete_after(runtime, user, queued))
        raise
    if delete:
        await runs.delete_after(runtime, user, queued)
    return answer
