"""Budget data access: a user's token and run counts from the run log, and the budget lock."""

import uuid
from datetime import datetime

from sqlalchemy import func, or_, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import ACTIVE_RUN_STATUSES, AgentRun


async def tokens_since(*, session: AsyncSession, user_id: uuid.UUID, since: datetime) -> int:
    """Total tokens of the user's runs started since `since`."""
    query = select(func.coalesce(func.sum(AgentRun.total_tokens), 0)).where(
        AgentRun.user_id == user_id,
        AgentRun.created_at >= since,
    )
    return int((await session.exec(query)).one())


async def active_runs(*, session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    """The user's queued runs and running runs whose lease has not lapsed at `now`."""
    query = select(func.count()).where(
        col(AgentRun.user_id) == user_id,
        col(AgentRun.status).in_(ACTIVE_RUN_STATUSES),
        or_(col(AgentRun.lease_expires_at).is_(None), col(AgentRun.lease_expires_at) > now),
    )
    return int((await session.exec(query)).one())


async def lock_user(*, session: AsyncSession, user_id: uuid.UUID) -> None:
    """Hold a per-user advisory lock until the session's transaction ends (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(user_id.bytes[:8], "big", signed=True)
        lock = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key)
        await session.exec(lock)  # type: ignore[call-overload]
