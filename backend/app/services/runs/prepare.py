"""Start a run: check the thread and the budgets, record the run `pending`, queue it."""

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from app.agents.schemas import AgentRunRequest, RunStartedEvent
from app.agents.titles import trimmed_title
from app.core.db import SessionMaker
from app.core.logging import bind_log_context
from app.core.telemetry import run_trace_id, trace_url_for
from app.crud import agent_run as crud_run
from app.crud import approval as crud_approval
from app.crud import thread as crud_thread
from app.models import RunStatus, ThreadStatus, User
from app.services.budget import insert_within_budgets
from app.services.runs.errors import (
    QueueUnavailableError,
    ThreadBusyError,
    ThreadNotFoundError,
)
from app.services.runs.events import EventLogUnavailableError
from app.services.runs.queue import QueueError
from app.services.runs.titles import NAME_THREAD

if TYPE_CHECKING:
    from app.services.runs.runtime import RunRuntime

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class QueuedRun:
    """A run handed to the queue, and where its events start in the log."""

    run_id: uuid.UUID
    thread_id: uuid.UUID
    cursor: str | None  # the log position just before this execution's `run_started`


@dataclass(frozen=True)
class NewRun:
    """What a run starts with, whichever API asked for it."""

    message: str  # the user's message ("" for a run that continues without one)
    thread_id: uuid.UUID | None  # None: a new thread
    metadata: dict[str, Any] = field(default_factory=dict)
    create_thread: bool = False  # create `thread_id` when it doesn't exist (Agent Protocol)
    reject_if_busy: bool = False  # a run of the thread still going → ThreadBusyError
    thread_metadata: dict[str, Any] = field(default_factory=dict)  # merged into the thread's
    options: dict[str, Any] | None = None  # how the worker runs the graph (Agent Protocol)


async def start_run(
    runtime: "RunRuntime", user: User, request: AgentRunRequest, *, stream_tokens: bool
) -> QueuedRun:
    """Record a new run on the user's thread (a new thread without `thread_id`) and queue it."""
    new = NewRun(request.message, request.thread_id, request.metadata or {})
    return await start_new_run(runtime, user, new, stream_tokens=stream_tokens)


async def start_new_run(
    runtime: "RunRuntime", user: User, new: NewRun, *, stream_tokens: bool
) -> QueuedRun:
    """Record the run `pending` on its thread (checked, or created) and queue it."""
    run_id = uuid.uuid4()
    trace_id = run_trace_id(run_id)
    async with SessionMaker() as session:
        thread = None
        names_thread = False  # this run gives the thread its first title
        if new.thread_id is not None:
            thread = await crud_thread.get_thread(session=session, thread_id=new.thread_id)
            if thread is not None and thread.user_id != user.id:
                raise ThreadNotFoundError()
            if thread is None and not new.create_thread:
                raise ThreadNotFoundError()
        if thread is None:
            thread = crud_thread.add_thread(
                session=session,
                user_id=user.id,
                title=trimmed_title(new.message),
                metadata={**new.metadata, **new.thread_metadata},
                thread_id=new.thread_id,
            )
            names_thread = bool(thread.title)
        else:
            if new.reject_if_busy and thread.status == ThreadStatus.busy:
                raise ThreadBusyError()
            if not thread.title and new.message:
                thread.title = trimmed_title(new.message)
                names_thread = bool(thread.title)
            if any(thread.thread_metadata.get(k) != v for k, v in new.thread_metadata.items()):
                thread.thread_metadata = {**thread.thread_metadata, **new.thread_metadata}
        if new.thread_id is not None:
            await crud_approval.supersede_pending(session=session, thread_id=thread.id)
        thread_id = thread.id
        run = crud_run.new_run(
            run_id=run_id,
            user_id=user.id,
            thread_id=thread_id,
            message=new.message,
            model=runtime.agent.models.name,
            metadata=new.metadata,
            trace_id=trace_id,
        )
        if thread.status != ThreadStatus.busy:  # a new thread is staged busy: no second write
            thread.status = ThreadStatus.busy
        # 429 before anything starts (the thread's changes roll back with it).
        await insert_within_budgets(session, run)
        await session.commit()
    bind_log_context(run_id=run_id, thread_id=thread_id, trace_id=trace_id)
    options = {**(new.options or {}), NAME_THREAD: True} if names_thread else new.options
    await queue_run(runtime, run_id, thread_id, stream_tokens=stream_tokens, options=options)
    return QueuedRun(run_id, thread_id, None)


async def queue_run(
    runtime: "RunRuntime",
    run_id: uuid.UUID,
    thread_id: uuid.UUID,
    *,
    stream_tokens: bool,
    resume: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> str | None:
    """Log `run_started` and hand the (pending) run to a worker; fail it if that's impossible.

    Returns the log cursor just before this `run_started`.
    """
    trace_id = run_trace_id(run_id)
    started = RunStartedEvent(
        run_id=run_id, thread_id=thread_id, trace_id=trace_id, trace_url=trace_url_for(trace_id)
    )
    try:
        await runtime.events.append(run_id, started)
        cursor = await runtime.events.latest_start(run_id) if resume is not None else None
        await runtime.queue.enqueue(
            run_id, stream_tokens=stream_tokens, resume=resume, options=options
        )
    except (EventLogUnavailableError, QueueError) as exc:
        logger.warning("runs.queue_unavailable", run_id=str(run_id), error=repr(exc))
        async with SessionMaker() as session:
            await crud_run.end_run(
                session=session,
                run_id=run_id,
                from_status=RunStatus.pending,
                status=RunStatus.error,
                error="The run queue was unavailable; nothing was run.",
                thread_status=ThreadStatus.error,
            )
        raise QueueUnavailableError("The run queue is unavailable, please retry shortly") from None
    return cursor
