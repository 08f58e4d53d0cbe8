"""Cancel a run wherever it executes.

Each process keeps the asyncio tasks of the runs it executes (an asyncio task can only be
cancelled by its own process); a cancel request reaches them through Redis pub/sub, so the API
replica that answers the request needn't be the worker that runs the job. Without Redis there
is one process and the request is delivered directly.
"""

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agents.schemas import ErrorEvent
from app.core.db import SessionMaker
from app.core.redis import RESILIENT
from app.crud import agent_run as crud_run
from app.models import AgentRun, RunStatus, ThreadStatus
from app.services.runs.errors import RunConflictError, RunNotFoundError

if TYPE_CHECKING:
    from app.services.runs.runtime import RunRuntime

logger = structlog.get_logger(__name__)
CHANNEL = "agent:runs:cancel"


class CancelBus:
    """Deliver cancel requests to the task executing the run, in this or another process."""

    def __init__(self, redis_url: str | None) -> None:
        self._tasks: dict[uuid.UUID, asyncio.Task[object]] = {}
        self._redis = (
            Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2, **RESILIENT)
            if redis_url
            else None
        )
        self._listener: asyncio.Task[None] | None = None
        self.stopping = False  # set at shutdown: cancelled runs are then `interrupted`

    async def start(self) -> None:
        """Listen for requests from other processes (with Redis)."""
        if self._redis is not None:
            self._listener = asyncio.create_task(self._listen_forever())

    async def stop(self) -> None:
        """Stop listening."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._redis is not None:
            await self._redis.aclose()

    def executing(self, run_id: uuid.UUID, task: asyncio.Task[object]) -> None:
        """This process now executes the run in `task`."""
        self._tasks[run_id] = task

    def done(self, run_id: uuid.UUID) -> None:
        """This process no longer executes the run."""
        self._tasks.pop(run_id, None)

    def in_flight(self) -> list[uuid.UUID]:
        """Runs this process executes now."""
        return list(self._tasks)

    def executions(self) -> list[asyncio.Task[object]]:
        """The tasks executing those runs."""
        return list(self._tasks.values())

    async def request(self, run_id: uuid.UUID) -> None:
        """Ask whichever process executes the run to cancel it."""
        if self._cancel_local(run_id) or self._redis is None:
            return
        try:
            try:
                await self._redis.publish(CHANNEL, str(run_id))
            except RedisError:  # a connection Redis closed while idle: once more on a new one
                await self._redis.publish(CHANNEL, str(run_id))
        except (RedisError, OSError):
            logger.warning("runs.cancel_publish_failed", run_id=str(run_id), exc_info=True)

    async def cancel_all(self) -> None:
        """Shutdown: cancel every run this process executes and wait for them to record it."""
        self.stopping = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)

    def _cancel_local(self, run_id: uuid.UUID) -> bool:
        task = self._tasks.get(run_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def _listen_forever(self) -> None:
        assert self._redis is not None
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    while True:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None:
                            self._cancel_local(uuid.UUID(message["data"].decode()))
            except (RedisError, OSError, ValueError):
                logger.warning("runs.cancel_listener_failed", exc_info=True)
                await asyncio.sleep(1.0)


CANCEL_WAIT_S = 3.0  # how long a cancel waits for the worker to record it before doing so itself


async def cancel_run(runtime: "RunRuntime", run_id: uuid.UUID) -> AgentRun:
    """Cancel a pending or running run, wherever it executes; the run ends `cancelled` once."""
    async with SessionMaker() as session:
        run = await session.get(AgentRun, run_id)
        if run is None:
            raise RunNotFoundError()
        if run.status == RunStatus.pending and await _end_cancelled(session, run_id, run.status):
            await _log_cancelled(runtime, run_id)
        else:
            await session.refresh(run)
            if run.status != RunStatus.running:
                raise RunConflictError(f"Run is not running (status: {run.status})")
            await runtime.cancels.request(run_id)
            deadline = asyncio.get_running_loop().time() + CANCEL_WAIT_S
            while run.status == RunStatus.running and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
                await session.refresh(run)
            if run.status == RunStatus.running and await _end_cancelled(
                session, run_id, run.status
            ):
                await _log_cancelled(runtime, run_id)  # its worker didn't answer: it's gone
        await session.refresh(run)
        return run


async def _end_cancelled(session: AsyncSession, run_id: uuid.UUID, from_status: str) -> bool:
    return await crud_run.end_run(
        session=session,
        run_id=run_id,
        from_status=from_status,
        status=RunStatus.cancelled,
        error="Run cancelled",
        thread_status=ThreadStatus.idle,
    )


async def _log_cancelled(runtime: "RunRuntime", run_id: uuid.UUID) -> None:
    with contextlib.suppress(Exception):
        await runtime.events.append(
            run_id, ErrorEvent(code="cancelled", message="Run cancelled", run_id=run_id)
        )


async def cancel_quietly(runtime: "RunRuntime", run_id: uuid.UUID) -> None:
    """Cancel a run whose client went away, if it is still going (errors only logged)."""
    try:
        await cancel_run(runtime, run_id)
    except RunConflictError:
        pass  # it had ended already
    except Exception:
        logger.warning("runs.cancel_failed", run_id=str(run_id), exc_info=True)
