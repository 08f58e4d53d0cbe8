"""Approvals: decide a paused tool call (resuming its run) and list the user's approvals."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sse_starlette import EventSourceResponse

from app.agents.approvals import (
    ApprovalArgsError,
    ApprovalConflictError,
    ApprovalNotFoundError,
    prepare_resume,
)
from app.agents.schemas import (
    AgentRunResult,
    AgentStreamEnvelope,
    ApprovalDecision,
    ApprovalPublic,
    ApprovalsPublic,
)
from app.agents.service import AgentRunError, PreparedRun
from app.api.deps import CurrentUser, SessionDep
from app.api.routes.agent import AgentServiceDep, error_response, event_stream
from app.crud import crud_approval
from app.models import ApprovalStatus, User

router = APIRouter(prefix="/agent", tags=["agent"])


async def _resume(
    service: Any, user: User, thread_id: uuid.UUID, approval_id: uuid.UUID, body: ApprovalDecision
) -> PreparedRun:
    if body.decision != "edit" and body.args is not None:
        raise HTTPException(status_code=422, detail="args are only accepted with decision=edit")
    try:
        return await prepare_resume(service, user, thread_id, approval_id, body, decided_by=user.id)
    except ApprovalNotFoundError:
        raise HTTPException(status_code=404, detail="Approval not found") from None
    except ApprovalConflictError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except ApprovalArgsError as exc:
        raise HTTPException(status_code=422, detail=exc.errors) from None


@router.post(
    "/threads/{thread_id}/approvals/{approval_id}",
    response_model=AgentRunResult,
    responses={404: {"description": "Approval not found"}, 409: {"description": "Already decided"}},
)
async def decide_approval(
    thread_id: uuid.UUID,
    approval_id: uuid.UUID,
    body: ApprovalDecision,
    current_user: CurrentUser,
    service: AgentServiceDep,
) -> Any:
    """Approve, reject or edit a paused tool call; the run resumes and this returns its result."""
    prepared = await _resume(service, current_user, thread_id, approval_id, body)
    try:
        return await service.execute(prepared)
    except AgentRunError as error:
        return error_response(error)


@router.post(
    "/threads/{thread_id}/approvals/{approval_id}/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"model": AgentStreamEnvelope, "content": {"text/event-stream": {}}},
        404: {"description": "Approval not found"},
        409: {"description": "Already decided"},
    },
)
async def decide_approval_stream(
    thread_id: uuid.UUID,
    approval_id: uuid.UUID,
    body: ApprovalDecision,
    current_user: CurrentUser,
    service: AgentServiceDep,
) -> EventSourceResponse:
    """Like the decision endpoint, streaming the resumed run's events."""
    prepared = await _resume(service, current_user, thread_id, approval_id, body)
    return event_stream(service, prepared)


@router.get("/approvals", response_model=ApprovalsPublic)
async def list_approvals(
    session: SessionDep,
    current_user: CurrentUser,
    status: ApprovalStatus | None = None,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """The current user's approvals (e.g. `?status=pending`), newest first."""
    rows, count = await crud_approval.list_approvals_for(
        session=session,
        user_id=current_user.id,
        status=status.value if status else None,
        skip=skip,
        limit=limit,
    )
    return ApprovalsPublic(
        data=[ApprovalPublic.model_validate(r, from_attributes=True) for r in rows], count=count
    )
