"""Read side of the run log: history pages and run detail."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.telemetry import trace_url_for
from app.crud import agent_run as crud_run
from app.crud.pages import Cursor
from app.models import (
    AgentEvaluation,
    AgentRun,
    AgentRunDetail,
    AgentRunPublic,
    AgentRunsPublic,
    EvaluationPublic,
    ToolCallRecord,
    User,
)


def run_public(run: AgentRun, evaluations: list[AgentEvaluation]) -> AgentRunPublic:
    """A run row as the API returns it."""
    return AgentRunPublic(
        **run.model_dump(exclude={"tool_calls", "run_metadata", "user_id"}),
        trace_url=trace_url_for(run.trace_id),
        evaluations={e.metric_name: e.score for e in evaluations},
    )


async def list_runs(
    session: AsyncSession,
    user: User,
    *,
    skip: int,
    limit: int,
    thread_id: uuid.UUID | None,
    status: str | None,
    after: Cursor | None = None,
) -> AgentRunsPublic:
    """A page of runs with their evaluation scores, and the cursor of the next page."""
    runs, count = await crud_run.list_runs_for(
        session=session,
        user=user,
        skip=skip,
        limit=limit + 1,  # one more tells whether a next page exists
        thread_id=thread_id,
        status=status,
        after=after,
    )
    page = runs[:limit]
    last = page[-1] if len(runs) > limit else None
    evaluations = await crud_run.evaluations_for(session=session, run_ids=[r.id for r in page])
    return AgentRunsPublic(
        data=[run_public(r, evaluations[r.id]) for r in page],
        count=count.value,
        count_is_estimate=count.estimated,
        next_cursor=Cursor(last.created_at, last.id).encode() if last else None,
    )


async def run_detail(session: AsyncSession, user: User, run_id: uuid.UUID) -> AgentRunDetail | None:
    """One run with tool calls and evaluations, or None when the user may not see it."""
    run = await crud_run.get_run_for(session=session, user=user, run_id=run_id)
    if run is None:
        return None
    evaluations = (await crud_run.evaluations_for(session=session, run_ids=[run.id]))[run.id]
    return AgentRunDetail(
        **run_public(run, evaluations).model_dump(),
        tool_calls=[ToolCallRecord.model_validate(call) for call in run.tool_calls or []],
        evaluations_detail=[
            EvaluationPublic.model_validate(e, from_attributes=True) for e in evaluations
        ],
        metadata=run.run_metadata,
    )
