"""Everything one user owns, read page by page (keyset on the id) for the data export and the
account erase."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import (
    AgentApproval,
    AgentEvaluation,
    AgentFeedback,
    AgentRun,
    AgentThread,
    ApiKey,
    Item,
)

# The tables a user owns, with the column naming the owner.
OWNED: dict[str, tuple[Any, Any]] = {
    "items": (Item, Item.owner_id),
    "threads": (AgentThread, AgentThread.user_id),
    "runs": (AgentRun, AgentRun.user_id),
    "feedback": (AgentFeedback, AgentFeedback.user_id),
    "approvals": (AgentApproval, AgentApproval.user_id),
    "api_keys": (ApiKey, ApiKey.user_id),
}


async def owned_pages(
    *, session: AsyncSession, kind: str, user_id: uuid.UUID, page_size: int
) -> AsyncIterator[list[Any]]:
    """The user's rows of one kind (a key of OWNED), `page_size` at a time, in id order."""
    model, owner = OWNED[kind]
    after: uuid.UUID | None = None
    while True:
        query = select(model).where(col(owner) == user_id)
        if after is not None:
            query = query.where(col(model.id) > after)
        rows = list((await session.exec(query.order_by(col(model.id)).limit(page_size))).all())
        if not rows:
            return
        yield rows
        after = rows[-1].id


async def evaluation_pages(
    *, session: AsyncSession, user_id: uuid.UUID, page_size: int
) -> AsyncIterator[list[AgentEvaluation]]:
    """Judge scores of the user's runs, `page_size` at a time."""
    after: uuid.UUID | None = None
    while True:
        query = (
            select(AgentEvaluation)
            .join(AgentRun, col(AgentRun.id) == col(AgentEvaluation.run_id))
            .where(col(AgentRun.user_id) == user_id)
        )
        if after is not None:
            query = query.where(col(AgentEvaluation.id) > after)
        rows = list(
            (await session.exec(query.order_by(col(AgentEvaluation.id)).limit(page_size))).all()
        )
        if not rows:
            return
        yield rows
        after = rows[-1].id


async def trace_ids_of(
    *, session: AsyncSession, user_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """(run id, trace id) of the user's traced runs, `limit` at a time after run `after`."""
    query = select(AgentRun.id, AgentRun.trace_id).where(
        col(AgentRun.user_id) == user_id, col(AgentRun.trace_id).is_not(None)
    )
    if after is not None:
        query = query.where(col(AgentRun.id) > after)
    rows = await session.exec(query.order_by(col(AgentRun.id)).limit(limit))
    return [(run_id, str(trace_id)) for run_id, trace_id in rows.all()]
