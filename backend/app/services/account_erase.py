"""Deleting an account erases what the agent holds about the user.

In the database, deleting the user row cascades to their items, threads, runs (inputs, answers,
plans, tool calls), judge scores, feedback, approvals, API keys and sessions. The threads'
LangGraph checkpoints (not rows the cascade reaches) are deleted first through the checkpointer,
and the runs' Langfuse traces (with their observations and scores) afterwards through Langfuse's
public API.

What remains, and why: a run's event log in Redis until AGENT_EVENTS_TTL_SECONDS expire it;
application logs (masked with TELEMETRY_MASK_PII) until the log store's retention; Langfuse
traces when tracing is off now or Langfuse refused the deletion (the ids are logged, count in
the log line `account.langfuse_traces_left`), and data Langfuse derived from a trace but keeps
apart (evaluation datasets or experiments someone built from it), which only its project's
retention settings reach; and database backups until they rotate.
"""

import uuid

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agents.service import AgentService
from app.core.telemetry import delete_traces
from app.crud import export as crud_export
from app.models import User
from app.services.runs.threads import erase_user_threads

logger = structlog.get_logger(__name__)
PAGE_SIZE = 500


async def _trace_ids(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    found: list[str] = []
    after: uuid.UUID | None = None
    while page := await crud_export.trace_ids_of(
        session=session, user_id=user_id, after=after, limit=PAGE_SIZE
    ):
        found += [trace_id for _, trace_id in page]
        after = page[-1][0]
    return found


async def erase_account(session: AsyncSession, agent: AgentService, user: User) -> None:
    """Delete the user with everything they own, their checkpoints and their traces."""
    user_id = user.id
    trace_ids = await _trace_ids(session, user_id)
    await erase_user_threads(session, agent, user_id)
    await session.delete(user)
    await session.commit()
    left = await delete_traces(trace_ids)
    if left:
        logger.warning("account.langfuse_traces_left", user_id=str(user_id), count=len(left))
