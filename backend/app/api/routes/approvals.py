"""Approvals: decide a paused tool call (resuming its run) and list the user's approvals."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sse_starlette import EventSourceResponse

from app.agents.schemas import AgentRunResult
from app.api.deps import CurrentUser, RuntimeDep, SessionDep, SkipQuery
from app.api.errors import authenticated_responses, error_responses, run_error_responses
from app.api.run_responses import SSE_RESPONSES, event_stream, wait_for_result
from app.crud import approval as crud_approval
from app.models import (
    ApprovalDecision,
    ApprovalPublic,
    ApprovalsPublic,
    ApprovalStatus,
    User,
)
from app.services.runs import approvals
from app.services.runs.prepare import QueuedRun
from app.services.runs.runtime import RunRuntime

router = APIRouter(prefix="/agent", tags=["agent"], responses=authenticated_responses())


async def _decide(
    runtime: RunRuntime,
    user: User,
    thread_id: uuid.UUID,
    approval_id: uuid.UUID,
    body: ApprovalDecision,
    *,
    stream_tokens: bool,
) -> QueuedRun:
    return await approvals.decide(
        runtime, user, thread_id, approval_id, body, decided_by=user.id, stream_tokens=stream_tokens
    )


@router.post(
    "/threads/{thread_id}/approvals/{approval_id}",
    response_model=AgentRunResult,
    responses={**error_responses(409, 429), **run_error_responses(422, 502, 503, 504)},
)
async def decide_approval(
    thread_id: uuid.UUID,
    approval_id: uuid.UUID,
    body: ApprovalDecision,
    current_user: CurrentUser,
    runtime: RuntimeDep,
    request: Request,
) -> Any:
    """Approve, reject or edit a paused tool call; the run resumes and this returns its result
    (disconnecting before it ends cancels the run)."""
    queued = await _decide(runtime, current_user, thread_id, approval_id, body, stream_tokens=False)
    return await wait_for_result(runtime, queued, request)


@router.post(
    "/threads/{thread_id}/approvals/{approval_id}/stream",
    response_class=EventSourceResponse,
    responses={
        **SSE_RESPONSES,
        **error_responses(409, 429),
    },
)
async def decide_approval_stream(
    thread_id: uuid.UUID,
    approval_id: uuid.UUID,
    body: ApprovalDecision,
    current_user: CurrentUser,
    runtime: RuntimeDep,
) -> EventSourceResponse:
    """Like the decision endpoint, streaming the resumed run's events."""
    queued = await _decide(runtime, current_user, thread_id, approval_id, body, stream_tokens=True)
    return event_stream(runtime, queued.run_id, queued.cursor, cancel_on_disconnect=True)


@router.get("/approvals", response_model=ApprovalsPublic)
async def list_approvals(
    session: SessionDep,
    current_user: CurrentUser,
    status: ApprovalStatus | None = None,
    thread_id: uuid.UUID | None = None,
    skip: SkipQuery = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """The current user's approvals (e.g. `?status=pending`, `?thread_id=`), newest first."""
    rows, count = await crud_approval.list_approvals_for(
        session=session,
        user_id=current_user.id,
        status=status.value if status else None,
        thread_id=thread_id,
        skip=skip,
        limit=limit,
    )
    return ApprovalsPublic(
        data=[ApprovalPublic.model_validate(r, from_attributes=True) for r in rows], count=count
    )
