"""Human feedback on agent runs: thumbs up/down, one per user and run, updatable."""

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException

from app.api.deps import CurrentUser, SessionDep
from app.api.errors import authenticated_responses
from app.models import AgentFeedbackCreate, AgentFeedbackPublic, FeedbackMetricsPublic, Message
from app.services import feedback as feedback_service
from app.services import feedback_labels

router = APIRouter(prefix="/agent", tags=["feedback"], responses=authenticated_responses())
RUN_NOT_FOUND = "Run not found"


@router.get("/feedback/metrics", response_model=FeedbackMetricsPublic)
async def list_label_metrics(_current_user: CurrentUser) -> Any:
    """The metric names a feedback's `labels` may use ("what was wrong?")."""
    return FeedbackMetricsPublic(data=await asyncio.to_thread(feedback_labels.label_metrics))


@router.post("/runs/{run_id}/feedback", response_model=AgentFeedbackPublic)
async def submit_feedback(
    session: SessionDep,
    current_user: CurrentUser,
    run_id: uuid.UUID,
    feedback_in: AgentFeedbackCreate,
) -> Any:
    """Give a run a thumbs up (1) or down (-1), optionally with per-metric pass/fail `labels`
    (names from GET /agent/feedback/metrics); sending again updates only the fields sent."""
    run = await feedback_service.visible_run(session, current_user, run_id)
    if run is None:
        raise HTTPException(status_code=404, detail=RUN_NOT_FOUND)
    return await feedback_service.submit_feedback(session, current_user, run, feedback_in)


@router.get("/runs/{run_id}/feedback", response_model=AgentFeedbackPublic | None)
async def read_feedback(session: SessionDep, current_user: CurrentUser, run_id: uuid.UUID) -> Any:
    """Your feedback on a run (null when you have given none)."""
    if await feedback_service.visible_run(session, current_user, run_id) is None:
        raise HTTPException(status_code=404, detail=RUN_NOT_FOUND)
    return await feedback_service.get_feedback(session, current_user, run_id)


@router.delete("/runs/{run_id}/feedback")
async def delete_feedback(
    session: SessionDep, current_user: CurrentUser, run_id: uuid.UUID
) -> Message:
    """Withdraw your feedback on a run."""
    run = await feedback_service.visible_run(session, current_user, run_id)
    if run is None:
        raise HTTPException(status_code=404, detail=RUN_NOT_FOUND)
    feedback = await feedback_service.get_feedback(session, current_user, run_id)
    if feedback is None:
        raise HTTPException(status_code=404, detail="Feedback not found")
    await feedback_service.delete_feedback(session, run, feedback)
    return Message(message="Feedback deleted")
