"""Run-log data access: AgentRun rows (queue, lease and outcome) and AgentEvaluation rows."""

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, insert, inspect, literal, update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.crud.pages import Count, Cursor, bounded_count
from app.models import (
    AgentEvaluation,
    AgentRun,
    AgentThread,
    RunStatus,
    ThreadStatus,
    User,
    utcnow,
)


def new_run(
    *,
    run_id: uuid.UUID,
    user_id: uuid.UUID,
    thread_id: uuid.UUID,
    message: str,
    model: str,
    metadata: dict[str, Any],
    trace_id: str | None,
) -> AgentRun:
    """A `pending` run, not yet stored (see `insert_run`)."""
    return AgentRun(
        id=run_id,
        user_id=user_id,
        thread_id=thread_id,
        input=message,
        model=model,
        run_metadata=metadata,
        trace_id=trace_id,
        status=RunStatus.pending,
        queued_at=utcnow(),
    )


async def insert_run(
    *, session: AsyncSession, run: AgentRun, conditions: list[ColumnElement[bool]]
) -> bool:
    """Insert the run only if every condition holds, in one statement (`INSERT … SELECT …
    WHERE`); False when a condition refused it (the caller commits)."""
    await session.flush()  # the thread row the run refers to, when it is new
    attrs = inspect(AgentRun).column_attrs  # every column, so defaults set in Python apply
    names = [attr.columns[0].name for attr in attrs]
    values = [literal(getattr(run, attr.key), type_=attr.columns[0].type) for attr in attrs]
    statement = (
        insert(AgentRun)
        .from_select(names, select(*values).where(*conditions))
        .returning(col(AgentRun.id))
    )
    return (await session.exec(statement)).first() is not None


def lease_clock(session: AsyncSession) -> Any:
    """Now, on the clock every process judges leases by: PostgreSQL's, as hosts' clocks can
    drift apart by more than a lease; in SQLite's embedded mode one process, so its own."""
    if session.get_bind().dialect.name == "postgresql":
        return func.now()
    return utcnow()


async def claim_run(
    *, session: AsyncSession, run_id: uuid.UUID, worker_id: str, lease: timedelta
) -> tuple[AgentRun, bool | None] | None:
    """Take a pending run for this worker (running, with a lease), in one transaction.

    Returns the run and whether its owner is a superuser (None: the owner is gone); None when
    the run isn't pending (cancelled or taken meanwhile).
    """
    owner_is_superuser = (
        select(User.is_superuser)
        .where(col(User.id) == AgentRun.user_id)
        .correlate(AgentRun)
        .scalar_subquery()
    )
    result = await session.exec(
        update(AgentRun)
        .where(col(AgentRun.id) == run_id, col(AgentRun.status) == RunStatus.pending)
        .values(
            status=RunStatus.running,
            worker_id=worker_id,
            lease_expires_at=lease_clock(session) + lease,
        )
        .returning(AgentRun, owner_is_superuser)
        .execution_options(synchronize_session=False)  # a fresh session: nothing to sync
    )
    row = result.first()
    await session.commit()
    return None if row is None else (row[0], row[1])


async def finish_run(
    *,
    session: AsyncSession,
    run_id: uuid.UUID,
    thread_status: str,
    **fields: Any,
) -> bool:
    """Write a run's outcome and its thread's status unless the run already ended (e.g.
    cancelled from elsewhere); on PostgreSQL one statement for both."""
    now = utcnow()
    finished = (
        update(AgentRun)
        .where(col(AgentRun.id) == run_id, col(AgentRun.status) == RunStatus.running)
        .values(finished_at=now, lease_expires_at=None, **fields)
        .returning(col(AgentRun.thread_id))
    )
    if session.get_bind().dialect.name != "postgresql":  # SQLite: no UPDATE in a CTE
        finished = finished.execution_options(synchronize_session=False)
        thread_id = (await session.exec(finished)).scalar_one_or_none()
        if thread_id is not None:
            await session.exec(_thread_status(thread_id, thread_status, now))
        await session.commit()
        return thread_id is not None
    run = finished.cte("finished_run")
    thread = _thread_status(select(run.c.thread_id).scalar_subquery(), thread_status, now)
    count = select(func.count()).select_from(run).add_cte(thread.cte("thread_status"))
    recorded = (await session.exec(count)).one()
    await session.commit()
    return bool(recorded)


async def add_usage(
    *, session: AsyncSession, run_id: uuid.UUID, prompt: int, completion: int, total: int
) -> None:
    """Add tokens spent for a run after it ended (its thread's title) to the run; commit."""
    await session.exec(
        update(AgentRun)
        .where(col(AgentRun.id) == run_id)
        .values(
            prompt_tokens=AgentRun.prompt_tokens + prompt,
            completion_tokens=AgentRun.completion_tokens + completion,
            total_tokens=AgentRun.total_tokens + total,
        )
    )
    await session.commit()


def _thread_status(thread_id: Any, status: str, now: datetime) -> Any:
    return (
        update(AgentThread)
        .where(col(AgentThread.id) == thread_id)
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def end_run(
    *,
    session: AsyncSession,
    run_id: uuid.UUID,
    from_status: str,
    status: str,
    error: str,
    thread_status: str,
) -> bool:
    """End a run that is still in `from_status` (once); False when it had moved on meanwhile."""
    result = await session.exec(
        update(AgentRun)
        .where(col(AgentRun.id) == run_id, col(AgentRun.status) == from_status)
        .values(status=status, error=error, finished_at=utcnow(), lease_expires_at=None)
        .returning(col(AgentRun.thread_id))
    )
    row = result.first()
    thread_id = row[0] if row is not None else None
    if thread_id is not None:
        await session.exec(
            update(AgentThread)
            .where(col(AgentThread.id) == thread_id)
            .values(status=thread_status, updated_at=utcnow())
        )
    await session.commit()
    return thread_id is not None


async def renew_leases(
    *, session: AsyncSession, run_ids: list[uuid.UUID], lease: timedelta
) -> None:
    """Extend the leases of runs this worker is executing."""
    await session.exec(
        update(AgentRun)
        .where(col(AgentRun.id).in_(run_ids), col(AgentRun.status) == RunStatus.running)
        .values(lease_expires_at=lease_clock(session) + lease)
    )
    await session.commit()


async def end_abandoned_runs(
    *, session: AsyncSession, queue_timeout: timedelta
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """Runs whose worker died (lease lapsed) become `interrupted`; runs no worker took in time
    become `error`. Returns (run id, thread id, new status) of each."""
    now = lease_clock(session)
    ended: list[tuple[uuid.UUID, uuid.UUID, str]] = []
    sweeps = (
        (
            col(AgentRun.status) == RunStatus.running,
            col(AgentRun.lease_expires_at) < now,
            RunStatus.interrupted,
            "The worker running this run stopped before it finished.",
        ),
        (
            col(AgentRun.status) == RunStatus.pending,
            col(AgentRun.queued_at) < now - queue_timeout,
            RunStatus.error,
            "No worker started this run in time; please retry.",
        ),
    )
    for in_status, overdue, status, error in sweeps:
        rows = await session.exec(
            update(AgentRun)
            .where(in_status, overdue)
            .values(status=status, error=error, finished_at=now, lease_expires_at=None)
            .returning(col(AgentRun.id), col(AgentRun.thread_id))
        )
        ended.extend((run_id, thread_id, status) for run_id, thread_id in rows.all())
    if ended:
        await session.exec(
            update(AgentThread)
            .where(col(AgentThread.id).in_({thread_id for _, thread_id, _ in ended}))
            .values(status=ThreadStatus.error, updated_at=now)
        )
    await session.commit()
    return ended


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
    after: Cursor | None = None,
) -> tuple[list[AgentRun], Count]:
    """A page of the user's runs (all runs for superusers), newest first: after a cursor, or
    at an offset (slow for deep pages)."""
    conditions = []
    if not user.is_superuser:
        conditions.append(col(AgentRun.user_id) == user.id)
    if thread_id is not None:
        conditions.append(col(AgentRun.thread_id) == thread_id)
    if status is not None:
        conditions.append(col(AgentRun.status) == status)
    count = await bounded_count(session, select(AgentRun.id).where(*conditions))
    if after is not None:
        conditions.append(after.before(col(AgentRun.created_at), col(AgentRun.id)))
    statement = (
        select(AgentRun)
        .where(*conditions)
        .order_by(col(AgentRun.created_at).desc(), col(AgentRun.id).desc())
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


async def runs_of_thread(*, session: AsyncSession, thread_id: uuid.UUID) -> list[AgentRun]:
    """The thread's runs, oldest first."""
    rows = await session.exec(
        select(AgentRun)
        .where(col(AgentRun.thread_id) == thread_id)
        .order_by(col(AgentRun.created_at))
    )
    return list(rows.all())


async def count_thread_runs(*, session: AsyncSession, thread_id: uuid.UUID) -> int:
    """How many runs the thread has had."""
    query = select(func.count()).select_from(AgentRun).where(col(AgentRun.thread_id) == thread_id)
    return int((await session.exec(query)).one())


async def successful_runs_page(
    *,
    session: AsyncSession,
    since: datetime,
    until: datetime,
    user_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[AgentRun]:
    """Successful runs with a response created in [since, until), newest first, keyset-paged
    on (created_at, id) after `after`."""
    statement = (
        select(AgentRun)
        .where(AgentRun.status == RunStatus.success)
        .where(col(AgentRun.response).is_not(None))
        .where(col(AgentRun.created_at) >= since, col(AgentRun.created_at) < until)
    )
    if user_id is not None:
        statement = statement.where(AgentRun.user_id == user_id)
    if after is not None:
        statement = statement.where(
            (col(AgentRun.created_at) < after[0])
            | ((col(AgentRun.created_at) == after[0]) & (col(AgentRun.id) < after[1]))
        )
    statement = statement.order_by(col(AgentRun.created_at).desc(), col(AgentRun.id).desc()).limit(
        limit
    )
    return list((await session.exec(statement)).all())


async def run_ids_by_trace_id(
    *, session: AsyncSession, trace_ids: list[str]
) -> dict[str, uuid.UUID]:
    """Map Langfuse trace ids to the ids of the runs that recorded them."""
    rows = await session.exec(
        select(AgentRun.trace_id, AgentRun.id).where(col(AgentRun.trace_id).in_(trace_ids))
    )
    return {trace_id: run_id for trace_id, run_id in rows.all() if trace_id}
