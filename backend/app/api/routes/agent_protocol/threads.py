"""Threads: create, search, read, update, delete, state and history."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from app.api.deps import RuntimeDep, SessionDep
from app.api.errors import authenticated_responses, error_responses
from app.api.routes.agent_protocol.deps import ProtocolUser
from app.models.storable import StorableText
from app.services.protocol import threads
from app.services.protocol.schemas import (
    CheckpointRef,
    HistoryRequest,
    ProtocolThread,
    ThreadCreate,
    ThreadPatch,
    ThreadSearch,
    ThreadState,
)
from app.services.runs import threads as run_threads

router = APIRouter(prefix="/threads", responses=authenticated_responses())
NOT_FOUND = error_responses(404)


@router.post("", response_model=ProtocolThread, responses=error_responses(409))
async def create_thread(
    body: ThreadCreate, session: SessionDep, user: ProtocolUser, runtime: RuntimeDep
) -> Any:
    """Create a thread (`if_exists`: `raise` → 409, `do_nothing` → the existing one)."""
    return await threads.create_thread(session, runtime.agent, user, body)


@router.post("/search", response_model=list[ProtocolThread])
async def search_threads(
    body: ThreadSearch, session: SessionDep, user: ProtocolUser, runtime: RuntimeDep
) -> Any:
    """The user's threads matching metadata, ids and status, with their values."""
    return await threads.search_threads(session, runtime.agent, user, body)


@router.get("/{thread_id}", response_model=ProtocolThread, responses=NOT_FOUND)
async def read_thread(
    thread_id: uuid.UUID, session: SessionDep, user: ProtocolUser, runtime: RuntimeDep
) -> Any:
    """One thread."""
    return await threads.read_thread(session, runtime.agent, user, thread_id)


@router.patch("/{thread_id}", response_model=ProtocolThread, responses=NOT_FOUND)
async def patch_thread(
    thread_id: uuid.UUID,
    body: ThreadPatch,
    session: SessionDep,
    user: ProtocolUser,
    runtime: RuntimeDep,
) -> Any:
    """Merge metadata into the thread's."""
    return await threads.patch_thread(session, runtime.agent, user, thread_id, body.metadata)


@router.delete("/{thread_id}", status_code=204, responses=NOT_FOUND)
async def delete_thread(
    thread_id: uuid.UUID, session: SessionDep, user: ProtocolUser, runtime: RuntimeDep
) -> Response:
    """Delete the thread and its checkpoints (its runs stay in the history, flagged)."""
    await run_threads.delete_thread(session, runtime.agent, user, thread_id)
    return Response(status_code=204)


@router.get("/{thread_id}/state", response_model=ThreadState, responses=NOT_FOUND)
async def thread_state(
    thread_id: uuid.UUID, session: SessionDep, user: ProtocolUser, runtime: RuntimeDep
) -> Any:
    """The thread's latest state: values, next nodes, tasks with interrupts, checkpoint."""
    return await threads.thread_state_at(session, runtime.agent, user, thread_id)


@router.get("/{thread_id}/state/{checkpoint_id}", response_model=ThreadState, responses=NOT_FOUND)
async def thread_state_at(
    thread_id: uuid.UUID,
    checkpoint_id: Annotated[StorableText, Path(max_length=64)],
    session: SessionDep,
    user: ProtocolUser,
    runtime: RuntimeDep,
) -> Any:
    """The thread's state at one of its checkpoints."""
    return await threads.thread_state_at(session, runtime.agent, user, thread_id, checkpoint_id)


@router.post("/{thread_id}/state/checkpoint", response_model=ThreadState, responses=NOT_FOUND)
async def thread_state_at_checkpoint(
    thread_id: uuid.UUID,
    body: dict[str, CheckpointRef],
    session: SessionDep,
    user: ProtocolUser,
    runtime: RuntimeDep,
) -> Any:
    """The thread's state at `{checkpoint: {checkpoint_id}}`."""
    ref = body.get("checkpoint")
    checkpoint_id = ref.checkpoint_id if ref is not None else None
    return await threads.thread_state_at(session, runtime.agent, user, thread_id, checkpoint_id)


@router.post("/{thread_id}/history", response_model=list[ThreadState], responses=NOT_FOUND)
async def thread_history(
    thread_id: uuid.UUID,
    body: HistoryRequest,
    session: SessionDep,
    user: ProtocolUser,
    runtime: RuntimeDep,
) -> Any:
    """The thread's states, newest first (`limit`, `before`, `metadata`)."""
    return await threads.thread_history(session, runtime.agent, user, thread_id, body)


@router.get("/{thread_id}/history", response_model=list[ThreadState], responses=NOT_FOUND)
async def thread_history_get(
    thread_id: uuid.UUID,
    session: SessionDep,
    user: ProtocolUser,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    before: Annotated[StorableText | None, Query(max_length=64)] = None,
) -> Any:
    """Like `POST /threads/{id}/history`, with query parameters."""
    body = HistoryRequest(limit=limit, before=before)
    return await threads.thread_history(session, runtime.agent, user, thread_id, body)
