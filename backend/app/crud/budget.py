"""Budget data access: a user's token and run counts from the run log, and the budget lock."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.crud import agent_run as crud_run
from app.models import ACTIVE_RUN_STATUSES, AgentRun


def tokens_since_query(user_id: uuid.UUID, since: datetime) -> Any:
    """Total tokens of the user's runs started since `since` (a scalar query)."""
    return select(func.coalesce(func.sum(AgentRun.total_tokens), 0)).where(
        AgentRun.user_id == user_id,
        AgentRun.created_at >= since,
    )


def active_runs_query(user_id: uuid.UUID, lease_now: Any) -> Any:
    """The user's queued runs and running runs whose lease has not lapsed at `lease_now`, the
    lease clock's now (`crud.agent_run.lease_clock`) (a scalar query)."""
    return select(func.count()).where(
        col(AgentRun.user_id) == user_id,
        col(AgentRun.status).in_(ACTIVE_RUN_STATUSES),
        or_(col(AgentRun.lease_expires_at).is_(None), col(AgentRun.lease_expires_at) > lease_now),
    )


def within_budgets(
    *, user_id: uuid.UUID, lease_now: Any, since: datetime, max_tokens: int, max_active: int
) -> list[ColumnElement[bool]]:
    """Conditions that hold while the user may start another run (a limit of 0: none);
    `lease_now` is the lease clock's now."""
    conditions: list[ColumnElement[bool]] = []
    if max_tokens > 0:
        conditions.append(tokens_since_query(user_id, since).scalar_subquery() < max_tokens)
    if max_active > 0:
        conditions.append(active_runs_query(user_id, lease_now).scalar_subquery() < max_active)
    return conditions


async def tokens_since(*, session: AsyncSession, user_id: uuid.UUID, since: datetime) -> int:
    """Total tokens of the user's runs started since `since`."""
    return int((await session.exec(tokens_since_query(user_id, since))).one())


async def active_runs(*, session: AsyncSession, user_id: uuid.UUID) -> int:
    """The user's queued runs and running runs whose lease has not lapsed."""
    query = active_runs_query(user_id, crud_run.lease_clock(session))
    return int((await session.exec(query)).one())


async def lock_user(*, session: AsyncSession, user_id: uuid.UUID) -> None:
    """Hold a per-user advisory lock until the session's transaction ends (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(user_id.bytes[:8], "big", signed=True)
        lock = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key)
        await session.exec(lock)  # type: ignore[call-overload]
