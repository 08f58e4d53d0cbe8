"""Approval data access: create, claim a decision atomically, list, expire."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import (
    AgentApproval,
    AgentRun,
    AgentThread,
    ApprovalStatus,
    RunStatus,
    ThreadStatus,
    User,
    utcnow,
)


async def create_approval(*, session: AsyncSession, approval: AgentApproval) -> AgentApproval:
    """Insert a pending approval (idempotent: the same id is only stored once)."""
    existing = await session.get(AgentApproval, approval.id)
    if existing is not None:
        return existing
    session.add(approval)
    await session.commit()
    return approval


async def claim_decision(
    *,
    session: AsyncSession,
    approval_id: uuid.UUID,
    status: str,
    decided_by: uuid.UUID | None,
    edited_args: dict[str, Any] | None,
    comment: str | None,
) -> bool:
    """Record a decision if the approval is still pending; False when someone decided first."""
    result = await session.exec(
        update(AgentApproval)
        .where(
            col(AgentApproval.id) == approval_id,
            col(AgentApproval.status) == ApprovalStatus.pending,
        )
        .values(
            status=status,
            decided_by=decided_by,
            decided_at=utcnow(),
            edited_args=edited_args,
            comment=comment,
        )
    )
    await session.commit()
    return bool(result.rowcount)


async def list_approvals_for(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    status: str | None,
    skip: int,
    limit: int,
    thread_id: uuid.UUID | None = None,
) -> tuple[list[AgentApproval], int]:
    """The user's approvals (optionally of one thread), newest first."""
    conditions = [col(AgentApproval.user_id) == user_id]
    if thread_id is not None:
        conditions.append(col(AgentApproval.thread_id) == thread_id)
    if status:
        conditions.append(col(AgentApproval.status) == status)
    count = (
        await session.exec(select(func.count()).select_from(AgentApproval).where(*conditions))
    ).one()
    rows = await session.exec(
        select(AgentApproval)
        .where(*conditions)
        .order_by(col(AgentApproval.created_at).desc())
        .offset(skip)
        .limit(limit)
    )
    return list(rows.all()), count


async def overdue_approvals(*, session: AsyncSession, now: datetime) -> list[AgentApproval]:
    """Pending approvals past their deadline."""
    rows = await session.exec(
        select(AgentApproval).where(
            col(AgentApproval.status) == ApprovalStatus.pending, col(AgentApproval.expires_at) < now
        )
    )
    return list(rows.all())


async def pause_run(
    *, session: AsyncSession, run_id: uuid.UUID, thread_id: uuid.UUID, **fields: Any
) -> bool:
    """Mark a running run as awaiting approval, with what it produced so far."""
    result = await session.exec(
        update(AgentRun)
        .where(col(AgentRun.id) == run_id, col(AgentRun.status) == RunStatus.running)
        .values(status=RunStatus.awaiting_approval, lease_expires_at=None, **fields)
    )
    if result.rowcount:
        await session.exec(
            update(AgentThread)
            .where(col(AgentThread.id) == thread_id)
            .values(status=ThreadStatus.interrupted, updated_at=utcnow())
        )
    await session.commit()
    return bool(result.rowcount)


async def supersede_pending(*, session: AsyncSession, thread_id: uuid.UUID) -> int:
    """A new message on the thread: its pending approvals can no longer be decided, and their
    runs end `cancelled` (the caller commits)."""
    rows = await session.exec(
        update(AgentApproval)
        .where(
            col(AgentApproval.thread_id) == thread_id,
            col(AgentApproval.status) == ApprovalStatus.pending,
        )
        .values(
            status=ApprovalStatus.superseded,
            decided_at=utcnow(),
            comment="A new message was sent before this was decided.",
        )
        .returning(col(AgentApproval.run_id))
    )
    run_ids = [row[0] for row in rows.all()]
    if run_ids:
        await session.exec(
            update(AgentRun)
            .where(
                col(AgentRun.id).in_(run_ids),
                col(AgentRun.status) == RunStatus.awaiting_approval,
            )
            .values(
                status=RunStatus.cancelled,
                error="Superseded: a new message was sent before the approval was decided.",
                finished_at=utcnow(),
            )
        )
    return len(run_ids)


async def resume_run(*, session: AsyncSession, run_id: uuid.UUID) -> AgentRun | None:
    """Queue a run awaiting approval again; None if it isn't awaiting approval."""
    result = await session.exec(
        update(AgentRun)
        .where(col(AgentRun.id) == run_id, col(AgentRun.status) == RunStatus.awaiting_approval)
        .values(status=RunStatus.pending, queued_at=utcnow(), finished_at=None)
    )
    await session.commit()
    if not result.rowcount:
        return None
    return await session.get(AgentRun, run_id)


async def pending_for_thread(
    *, session: AsyncSession, thread_id: uuid.UUID
) -> AgentApproval | None:
    """The thread's approval waiting for a decision (the latest, if several)."""
    rows = await session.exec(
        select(AgentApproval)
        .where(
            col(AgentApproval.thread_id) == thread_id,
            col(AgentApproval.status) == ApprovalStatus.pending,
        )
        .order_by(col(AgentApproval.created_at).desc())
        .limit(1)
    )
    return rows.first()


async def approvals_of_run(
    *, session: AsyncSession, run_id: uuid.UUID
) -> list[tuple[AgentApproval, str | None]]:
    """The run's approvals, oldest first, each with the email of whoever decided it."""
    rows = await session.exec(
        select(AgentApproval, User.email)
        .join(User, col(User.id) == col(AgentApproval.decided_by), isouter=True)
        .where(col(AgentApproval.run_id) == run_id)
        .order_by(col(AgentApproval.created_at))
    )
    return [(approval, email) for approval, email in rows.all()]
