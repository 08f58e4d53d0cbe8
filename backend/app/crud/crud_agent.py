"""Run-log data access: AgentRun and AgentEvaluation rows, threads derived from runs."""

import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import AgentEvaluation, AgentRun, RunStatus, User, utcnow


async def create_run(
    *,
    session: AsyncSession,
    run_id: uuid.UUID,
    user_id: uuid.UUID,
    thread_id: uuid.UUID,
    message: str,
    model: str,
    metadata: dict[str, Any],
    trace_id: str | None,
) -> AgentRun:
    """Record a run as `running` (its trace id is known up front)."""
    run = AgentRun(
        id=run_id,
        user_id=user_id,
        thread_id=thread_id,
        input=message,
        model=model,
        run_metadata=metadata,
        trace_id=trace_id,
    )
    session.add(run)
    await session.commit()  # expire_on_commit=False: the row's fields stay loaded, no refresh
    return run


async def finish_run(*, session: AsyncSession, run_id: uuid.UUID, **fields: Any) -> bool:
    """Write a run's outcome unless it already ended (e.g. cancelled from elsewhere)."""
    statement = (
        update(AgentRun)
        .where(col(AgentRun.id) == run_id, col(AgentRun.status) == RunStatus.running)
        .values(finished_at=utcnow(), **fields)
    )
    result = await session.exec(statement)
    await session.commit()
    return bool(result.rowcount)


async def get_run_for(*, session: AsyncSession, user: User, run_id: uuid.UUID) -> AgentRun | None:
    """The run when `user` may see it (owner or superuser)."""
    run = await session.get(AgentRun, run_id)
    if run is None or (run.user_id != user.id and not user.is_superuser):
        return None
    return run


async def list_runs_for(
    *,
    session: AsyncSession,
    user: User,
    skip: int,
    limit: int,
    thread_id: uuid.UUID | None = None,
    status: str | None = None,
) -> tuple[list[AgentRun], int]:
    """A page of the user's runs (all runs for superusers), newest first."""
    conditions = []
    if not user.is_superuser:
        conditions.append(col(AgentRun.user_id) == user.id)
    if thread_id is not None:
        conditions.append(col(AgentRun.thread_id) == thread_id)
    if status is not None:
        conditions.append(col(AgentRun.status) == status)
    count_statement = select(func.count()).select_from(AgentRun).where(*conditions)
    count = (await session.exec(count_statement)).one()
    statement = (
        select(AgentRun)
        .where(*conditions)
        .order_by(col(AgentRun.created_at).desc())
        .offset(skip)
        .limit(limit)
    )
    return list((await session.exec(statement)).all()), count


async def evaluations_for(
    *, session: AsyncSession, run_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[AgentEvaluation]]:
    """Evaluations of these runs, grouped by run."""
    grouped: dict[uuid.UUID, list[AgentEvaluation]] = defaultdict(list)
    if not run_ids:
        return grouped
    statement = (
        select(AgentEvaluation)
        .where(col(AgentEvaluation.run_id).in_(run_ids))
        .order_by(col(AgentEvaluation.created_at))
    )
    for evaluation in (await session.exec(statement)).all():
        grouped[evaluation.run_id].append(evaluation)
    return grouped


async def thread_owner(*, session: AsyncSession, thread_id: uuid.UUID) -> uuid.UUID | None:
    """Who started this thread (None when no run has used it)."""
    statement = (
        select(AgentRun.user_id)
        .where(col(AgentRun.thread_id) == thread_id)
        .order_by(col(AgentRun.created_at))
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def list_threads_for(
    *, session: AsyncSession, user: User, skip: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The user's live threads, most recently active first, titled by their first message."""
    live = (col(AgentRun.user_id) == user.id, col(AgentRun.thread_deleted).is_(False))
    last_activity = func.max(AgentRun.created_at).label("last_activity")
    grouped = (
        select(
            AgentRun.thread_id,
            last_activity,
            func.min(AgentRun.created_at).label("first_at"),
            func.count().label("run_count"),
        )
        .where(*live)
        .group_by(col(AgentRun.thread_id))
    )
    count = (await session.exec(select(func.count()).select_from(grouped.subquery()))).one()
    page = (
        await session.exec(grouped.order_by(last_activity.desc()).offset(skip).limit(limit))
    ).all()
    titles: dict[uuid.UUID, str] = {}
    if page:
        firsts = await session.exec(
            select(AgentRun.thread_id, AgentRun.input, AgentRun.created_at)
            .where(*live, col(AgentRun.thread_id).in_([row[0] for row in page]))
            .order_by(col(AgentRun.created_at).desc())
        )
        for thread_id, text, _created in firsts.all():
            titles[thread_id] = text  # ordered newest first, so the first message wins
    threads = [
        {
            "thread_id": thread_id,
            "title": thread_title(titles.get(thread_id, "")),
            "last_activity": last,
            "run_count": runs,
        }
        for thread_id, last, _first, runs in page
    ]
    return threads, count


def thread_title(first_message: str) -> str:
    """A one-line title from a thread's first message."""
    line = " ".join(first_message.split())
    return line if len(line) <= 80 else line[:77] + "..."


async def mark_thread_deleted(*, session: AsyncSession, thread_id: uuid.UUID) -> None:
    """Keep the thread's runs for history, flagged as belonging to a deleted thread."""
    await session.exec(
        update(AgentRun).where(col(AgentRun.thread_id) == thread_id).values(thread_deleted=True)
    )
    await session.commit()


async def mark_stale_runs_interrupted(*, session: AsyncSession, older_than: timedelta) -> int:
    """Runs still `running` past the run timeout were cut off by a crash: mark them interrupted.

    Only stale ones, because other workers or replicas may have runs in flight right now.
    """
    statement = (
        update(AgentRun)
        .where(
            col(AgentRun.status) == RunStatus.running,
            col(AgentRun.created_at) < utcnow() - older_than,
        )
        .values(
            status=RunStatus.interrupted,
            finished_at=utcnow(),
            error="The server stopped while this run was in progress.",
        )
    )
    result = await session.exec(statement)
    await session.commit()
    return int(result.rowcount or 0)
