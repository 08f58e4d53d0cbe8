"""Read side of the run log: history pages, run detail, threads and their messages."""

import uuid
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agents.schemas import (
    AgentRunDetail,
    AgentRunPublic,
    AgentRunsPublic,
    EvaluationPublic,
    ThreadDetail,
    ThreadMessage,
    ThreadPublic,
    ThreadsPublic,
    ToolCallRecord,
)
from app.agents.service import AgentService
from app.core.telemetry import trace_url_for
from app.crud import crud_agent
from app.models import AgentEvaluation, AgentRun, User


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
) -> AgentRunsPublic:
    """A page of runs with their evaluation scores."""
    runs, count = await crud_agent.list_runs_for(
        session=session, user=user, skip=skip, limit=limit, thread_id=thread_id, status=status
    )
    evaluations = await crud_agent.evaluations_for(session=session, run_ids=[r.id for r in runs])
    return AgentRunsPublic(data=[run_public(r, evaluations[r.id]) for r in runs], count=count)


async def run_detail(session: AsyncSession, user: User, run_id: uuid.UUID) -> AgentRunDetail | None:
    """One run with tool calls and evaluations, or None when the user may not see it."""
    run = await crud_agent.get_run_for(session=session, user=user, run_id=run_id)
    if run is None:
        return None
    evaluations = (await crud_agent.evaluations_for(session=session, run_ids=[run.id]))[run.id]
    return AgentRunDetail(
        **run_public(run, evaluations).model_dump(),
        tool_calls=[ToolCallRecord.model_validate(call) for call in run.tool_calls or []],
        evaluations_detail=[
            EvaluationPublic.model_validate(e, from_attributes=True) for e in evaluations
        ],
        metadata=run.run_metadata,
    )


async def list_threads(
    session: AsyncSession, user: User, *, skip: int, limit: int
) -> ThreadsPublic:
    """The user's threads."""
    threads, count = await crud_agent.list_threads_for(
        session=session, user=user, skip=skip, limit=limit
    )
    return ThreadsPublic(data=[ThreadPublic(**t) for t in threads], count=count)


async def visible_thread(session: AsyncSession, user: User, thread_id: uuid.UUID) -> bool:
    """May this user read this (live) thread? Owners and superusers may."""
    owner = await crud_agent.thread_owner(session=session, thread_id=thread_id)
    if owner is None or (owner != user.id and not user.is_superuser):
        return False
    runs, _ = await crud_agent.list_runs_for(
        session=session, user=user, skip=0, limit=1, thread_id=thread_id
    )
    return bool(runs) and not runs[0].thread_deleted


def _thread_message(message: BaseMessage) -> ThreadMessage | None:
    if isinstance(message, HumanMessage):
        return ThreadMessage(role="user", content=message.text)
    if isinstance(message, ToolMessage):
        return ThreadMessage(
            role="tool", content=message.text, name=message.name, tool_call_id=message.tool_call_id
        )
    if isinstance(message, AIMessage):
        calls = [
            ToolCallRecord(id=c["id"] or "", name=c["name"], args=c["args"])
            for c in message.tool_calls
        ]
        return ThreadMessage(role="assistant", content=message.text, tool_calls=calls)
    return None


async def thread_detail(
    session: AsyncSession, service: AgentService, user: User, thread_id: uuid.UUID
) -> ThreadDetail | None:
    """A thread's messages from its checkpoint."""
    if not await visible_thread(session, user, thread_id):
        return None
    runs, _ = await crud_agent.list_runs_for(
        session=session, user=user, skip=0, limit=1, thread_id=thread_id
    )
    messages: list[Any] = await service.thread_messages(thread_id)
    converted = [m for m in (_thread_message(message) for message in messages) if m is not None]
    first = next((m.content for m in converted if m.role == "user"), runs[0].input if runs else "")
    return ThreadDetail(
        thread_id=thread_id, title=crud_agent.thread_title(first), messages=converted
    )
