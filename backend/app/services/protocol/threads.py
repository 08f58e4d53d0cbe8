"""Agent Protocol threads: our thread records, their state and history from the checkpoints."""

import asyncio
import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from app.agents.service import AgentService, jsonable
from app.crud import thread as crud_thread
from app.crud.errors import StoreError
from app.models import AgentThread, User
from app.services.protocol.assistants import graph_metadata
from app.services.protocol.schemas import (
    CheckpointRef,
    HistoryRequest,
    ProtocolThread,
    ThreadCreate,
    ThreadSearch,
    ThreadState,
)
from app.services.protocol.state import empty_state, interrupts_by_task, thread_state
from app.services.runs import threads
from app.services.runs.errors import CheckpointNotFoundError, ThreadExistsError

STATE_READS = 8  # checkpoint reads at once when a search returns many threads


async def protocol_thread(agent: AgentService, thread: AgentThread) -> ProtocolThread:
    """The thread with its current values and pending interrupts."""
    snapshot = await agent.state(thread.id)
    return ProtocolThread(
        thread_id=thread.id,
        created_at=thread.created_at,
        updated_at=thread.updated_at,
        state_updated_at=thread.updated_at,
        metadata=thread.thread_metadata,
        status=thread.status,
        values=jsonable(snapshot.values) if snapshot is not None else {},
        interrupts=interrupts_by_task(snapshot) if snapshot is not None else {},
    )


async def create_thread(
    session: AsyncSession, agent: AgentService, user: User, body: ThreadCreate
) -> ProtocolThread:
    """A new thread; `if_exists` decides what an existing id means (another user's is a 409
    too: ids are global, and saying more would tell whose it is)."""
    if body.thread_id is not None:
        existing = await crud_thread.get_thread(session=session, thread_id=body.thread_id)
        if existing is not None:
            if body.if_exists == "do_nothing" and existing.user_id == user.id:
                return await protocol_thread(agent, existing)
            raise ThreadExistsError()
    try:
        thread = await crud_thread.create_thread(
            session=session,
            user_id=user.id,
            thread_id=body.thread_id,
            metadata={**graph_metadata(), **(body.metadata or {})},
        )
    except StoreError:  # created by a concurrent request meanwhile
        raise ThreadExistsError() from None
    return await protocol_thread(agent, thread)


async def search_threads(
    session: AsyncSession, agent: AgentService, user: User, body: ThreadSearch
) -> list[ProtocolThread]:
    """The user's threads matching the filters, with their values."""
    rows = await crud_thread.search_threads(
        session=session,
        user_id=user.id,
        metadata=body.metadata,
        ids=body.ids,
        status=body.status,
        limit=body.limit,
        offset=body.offset,
        sort_by=body.sort_by,
        descending=body.sort_order == "desc",
    )
    await session.commit()  # the checkpoint reads below don't need this connection
    gate = asyncio.Semaphore(STATE_READS)

    async def one(thread: AgentThread) -> ProtocolThread:
        async with gate:
            return await protocol_thread(agent, thread)

    return list(await asyncio.gather(*(one(thread) for thread in rows)))


async def read_thread(
    session: AsyncSession, agent: AgentService, user: User, thread_id: uuid.UUID
) -> ProtocolThread:
    """One of the user's threads."""
    return await protocol_thread(agent, await threads.owned_thread(session, user, thread_id))


async def patch_thread(
    session: AsyncSession,
    agent: AgentService,
    user: User,
    thread_id: uuid.UUID,
    metadata: dict[str, object],
) -> ProtocolThread:
    """Merge metadata into the user's thread."""
    thread = await threads.owned_thread(session, user, thread_id)
    thread = await crud_thread.update_metadata(session=session, thread=thread, metadata=metadata)
    return await protocol_thread(agent, thread)


async def thread_state_at(
    session: AsyncSession,
    agent: AgentService,
    user: User,
    thread_id: uuid.UUID,
    checkpoint_id: str | None = None,
) -> ThreadState:
    """The thread's latest state, or its state at one of its checkpoints."""
    await threads.owned_thread(session, user, thread_id)
    await session.commit()
    snapshot = await agent.state(thread_id, checkpoint_id)
    if snapshot is None:
        if checkpoint_id is not None:
            raise CheckpointNotFoundError()
        return empty_state(thread_id)
    return thread_state(snapshot)


async def thread_history(
    session: AsyncSession,
    agent: AgentService,
    user: User,
    thread_id: uuid.UUID,
    body: HistoryRequest,
) -> list[ThreadState]:
    """The thread's states, newest first."""
    await threads.owned_thread(session, user, thread_id)
    await session.commit()
    before = body.before.checkpoint_id if isinstance(body.before, CheckpointRef) else body.before
    snapshots = await agent.history(
        thread_id,
        limit=body.limit,
        before=before,
        metadata=body.metadata,
        checkpoint_id=body.checkpoint.checkpoint_id if body.checkpoint else None,
    )
    return [thread_state(snapshot) for snapshot in snapshots]
