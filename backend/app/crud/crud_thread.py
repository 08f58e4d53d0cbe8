"""Thread data access: `AgentThread` rows, their run counts, status and deletion."""

import uuid
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import AgentRun, AgentThread, ThreadStatus, utcnow


def thread_title(first_message: str) -> str:
    """A one-line title from a thread's first message."""
    line = " ".join(first_message.split())
    return line if len(line) <= 80 else line[:77] + "..."


def add_thread(
    *, session: AsyncSession, user_id: uuid.UUID, first_message: str, metadata: dict[str, Any]
) -> AgentThread:
    """Stage a new, busy thread in the session (the caller commits with the run that starts it)."""
    thread = AgentThread(
        user_id=user_id,
        title=thread_title(first_message),
        thread_metadata=metadata,
        status=ThreadStatus.busy,
    )
    session.add(thread)
    return thread


async def get_thread(*, session: AsyncSession, thread_id: uuid.UUID) -> AgentThread | None:
    """The thread, whoever owns it."""
    return await session.get(AgentThread, thread_id)


async def set_status(*, session: AsyncSession, thread_id: uuid.UUID, status: str) -> None:
    """Record where the thread stands and that it was active now (the caller commits)."""
    await session.exec(
        update(AgentThread)
        .where(col(AgentThread.id) == thread_id)
        .values(status=status, updated_at=utcnow())
    )


async def list_threads_for(
    *, session: AsyncSession, user_id: uuid.UUID, skip: int, limit: int
) -> tuple[list[tuple[AgentThread, int]], int]:
    """The user's threads with their run counts, most recently active first."""
    owned = col(AgentThread.user_id) == user_id
    count = (await session.exec(select(func.count()).select_from(AgentThread).where(owned))).one()
    runs = (
        select(func.count())
        .where(col(AgentRun.thread_id) == AgentThread.id)
        .correlate(AgentThread)
        .scalar_subquery()
    )
    rows = await session.exec(
        select(AgentThread, runs)
        .where(owned)
        .order_by(col(AgentThread.updated_at).desc())
        .offset(skip)
        .limit(limit)
    )
    return [(thread, int(run_count)) for thread, run_count in rows.all()], count


async def thread_ids_of(*, session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Every thread id the user owns."""
    rows = await session.exec(select(AgentThread.id).where(col(AgentThread.user_id) == user_id))
    return list(rows.all())


async def delete_thread(*, session: AsyncSession, thread_id: uuid.UUID) -> None:
    """Delete the thread row and flag its runs, which stay in the history."""
    await session.exec(delete(AgentThread).where(col(AgentThread.id) == thread_id))
    await session.exec(
        update(AgentRun).where(col(AgentRun.thread_id) == thread_id).values(thread_deleted=True)
    )
    await session.commit()
