"""Human feedback on runs: stored per user and run, mirrored to Langfuse as `user_feedback`."""

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.telemetry import get_langfuse
from app.crud import agent_run as crud_run
from app.crud import evaluation as crud_evaluation
from app.evaluation.outputs import score_id
from app.models import AgentFeedback, AgentFeedbackCreate, AgentRun, User
from app.services.feedback_labels import check_labels, sync_label_scores

FEEDBACK_SCORE_NAME = "user_feedback"
logger = structlog.get_logger(__name__)
_background: set[asyncio.Task[None]] = set()


def feedback_score_id(trace_id: str, user_id: uuid.UUID) -> str:
    """One Langfuse score per (trace, user): an update overwrites it."""
    return score_id(trace_id, FEEDBACK_SCORE_NAME, str(user_id))


def send_feedback_score(run: AgentRun, feedback: AgentFeedback) -> None:
    """Queue the score in the Langfuse SDK (no network here); never raises."""
    if not run.trace_id:
        return
    try:
        client = get_langfuse()
        if client is None:
            return
        client.create_score(
            name=FEEDBACK_SCORE_NAME,
            value=float(feedback.score),
            trace_id=run.trace_id,
            score_id=feedback_score_id(run.trace_id, feedback.user_id),
            data_type="NUMERIC",
            comment=feedback.comment,
            metadata={"user_id": str(feedback.user_id), "run_id": str(run.id)},
            # Langfuse overwrites a score with the same id *and date*: keep the first date.
            timestamp=feedback.created_at,
        )
    except Exception:
        logger.warning("feedback.langfuse_failed", run_id=str(run.id), exc_info=True)


async def _delete_remote(client: object, langfuse_score_id: str) -> None:
    try:
        await asyncio.to_thread(client.api.scores.delete, langfuse_score_id)  # type: ignore[attr-defined]
    except Exception:
        logger.warning("feedback.langfuse_delete_failed", score_id=langfuse_score_id, exc_info=True)


async def get_feedback(
    session: AsyncSession, user: User, run_id: uuid.UUID
) -> AgentFeedback | None:
    """The user's feedback on a run they can see (None when there is none)."""
    return await crud_evaluation.get_feedback(session=session, run_id=run_id, user_id=user.id)


async def visible_run(session: AsyncSession, user: User, run_id: uuid.UUID) -> AgentRun | None:
    """The run when `user` may give feedback on it (its owner, or a superuser)."""
    return await crud_run.get_run_for(session=session, user=user, run_id=run_id)


def _spawn(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def submit_feedback(
    session: AsyncSession, user: User, run: AgentRun, data: AgentFeedbackCreate
) -> AgentFeedback:
    """Store (or update) the user's feedback and mirror it to Langfuse: the thumb as
    `user_feedback`, per-metric labels as annotation scores named like the metric."""
    await check_labels(data.labels)
    before = await crud_evaluation.get_feedback(session=session, run_id=run.id, user_id=user.id)
    old_labels = set((before.labels or {}) if before else {})
    feedback = await crud_evaluation.upsert_feedback(
        session=session, run_id=run.id, user_id=user.id, data=data
    )
    send_feedback_score(run, feedback)
    if "labels" in data.model_fields_set:
        client = get_langfuse() if run.trace_id else None
        removed = sorted(old_labels - set(feedback.labels or {}))
        if client is not None and (feedback.labels or removed):
            _spawn(sync_label_scores(client, run, feedback, removed))
    return feedback


async def delete_feedback(session: AsyncSession, run: AgentRun, feedback: AgentFeedback) -> None:
    """Remove the feedback; its Langfuse score is deleted in the background (best effort)."""
    await crud_evaluation.delete_feedback(session=session, feedback=feedback)
    client = get_langfuse() if run.trace_id else None
    if client is not None and run.trace_id:
        _spawn(_delete_remote(client, feedback_score_id(run.trace_id, feedback.user_id)))
        labels = sorted(feedback.labels or {})
        if labels:
            gone = feedback.model_copy(update={"labels": {}})
            _spawn(sync_label_scores(client, run, gone, labels))
