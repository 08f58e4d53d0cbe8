"""The run layer of one process: the agent, the queue, the event log, cancels and leases.

Opened in the API's lifespan and by the worker command (`python -m app.worker`). Without
Redis every part is in-process (the embedded default); with Redis, API replicas and worker
processes share the queue, the event logs and cancel requests.
"""

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import structlog

from app.agents.checkpointer import open_checkpointer
from app.agents.mcp.manager import open_mcp
from app.agents.service import AgentService
from app.core.config import Settings
from app.core.redis import get_redis
from app.services import evaluation_jobs, retention
from app.services.runs import approvals, titles
from app.services.runs.cancel import CancelBus
from app.services.runs.events import EventLog, MemoryEventLog, RedisEventLog
from app.services.runs.leases import Leases
from app.services.runs.queue import RunQueue
from app.services.runs.worker import RunExecutor

logger = structlog.get_logger(__name__)
# At shutdown, how long titles and upkeep in flight get in all (the drain counting) before
# they are cut short.
JOB_GRACE_S = 5.0


class RunRuntime:
    """Everything a process needs to start, execute, stream and cancel runs."""

    def __init__(self, config: Settings, agent: AgentService, *, executes_runs: bool) -> None:
        self.settings = config
        self.agent = agent
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        url = config.redis_url
        self.events: EventLog = (
            RedisEventLog(
                url,
                max_len=config.AGENT_EVENTS_MAX_LEN,
                ttl_seconds=config.AGENT_EVENTS_TTL_SECONDS,
                live_ttl_seconds=int(config.AGENT_RUN_TIMEOUT_SECONDS)
                + config.AGENT_EVENTS_TTL_SECONDS,
            )
            if url
            else MemoryEventLog(config.AGENT_EVENTS_TTL_SECONDS)
        )
        self.cancels = CancelBus(url)
        self.leases = Leases(config, self.events)
        self.executor = RunExecutor(
            config, agent, self.events, self.cancels, self.leases, self.worker_id
        )
        if url is None and not executes_runs:
            logger.warning("runs.inprocess_worker_forced", reason="no Redis: nothing else can")
        self.executes_runs = executes_runs or url is None
        self.queue = RunQueue(
            config,
            self.executor.execute,
            consume=self.executes_runs,
            execute_evaluation=self._evaluate,
            maintain=self._maintain,
            title_thread=self._title_thread,
        )
        # The executor queues titles on the queue that feeds it (built just above).
        self.executor.request_title = self.queue.enqueue_title
        self._approval_sweeper: asyncio.Task[None] | None = None
        self._retention: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._jobs: set[asyncio.Task[Any]] = set()
        self._stopping = False
        # How long the runs and jobs in flight get to finish when this process stops.
        self.drain_s = 0.0

    async def _title_thread(self, run_id: str) -> None:
        await self._job(titles.title_thread(self.agent, uuid.UUID(run_id)))

    async def _evaluate(self, job_id: str) -> None:
        await self._job(evaluation_jobs.execute_job(job_id))

    async def _maintain(self) -> None:
        """The queued retention job: prune checkpoints, expire idle threads."""
        await self._job(retention.apply_retention(self.settings, self.agent.checkpointer))

    async def _job(self, work: Coroutine[Any, Any, Any]) -> None:
        """Execute a queued job that isn't a run, so that shutdown can wait for it and then
        end it quietly: a job cut short by shutdown returns instead of raising (the queue
        would log the cancellation as a failure). A cut-short title stays the trimmed first
        message, upkeep runs again next time, an evaluation is recorded `interrupted`."""
        task = asyncio.current_task()
        assert task is not None
        self._jobs.add(task)
        try:
            await work
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            logger.info("runs.job_cut_short_by_shutdown")
        finally:
            self._jobs.discard(task)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` without a caller waiting (e.g. cancelling after a client left)."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def start(self) -> None:
        """Start listening for jobs and cancels, heartbeats and sweeps."""
        await self.cancels.start()
        await self.queue.start()
        await self.leases.start()
        await self.leases.sweep()  # runs cut off while nothing was running
        self._approval_sweeper = asyncio.create_task(approvals.expire_forever(self))
        if self.settings.AGENT_RETENTION_INTERVAL_SECONDS > 0:
            self._retention = asyncio.create_task(retention.queue_forever(self))

    async def stop(self) -> None:
        """Take no more jobs; give the runs and jobs in flight `drain_s` to finish; interrupt
        the runs still going (recorded as such), give other jobs JOB_GRACE_S, then close
        everything."""
        self._stopping = True
        for loop in (self._approval_sweeper, self._retention):
            if loop is not None:
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
        self.queue.stop_receiving()
        if self.drain_s > 0 and (going := {*self.cancels.executions(), *self._jobs}):
            runs = len(self.cancels.in_flight())
            logger.info("runs.draining", runs=runs, seconds=round(self.drain_s, 1))
            await asyncio.wait(going, timeout=self.drain_s)
        if self._background:
            await asyncio.wait(self._background, timeout=5)
        await evaluation_jobs.shutdown_jobs()  # this process's jobs are recorded interrupted
        await self.cancels.cancel_all()
        await self.queue.stop()
        await self._end_jobs()
        await self.leases.stop()
        await self.cancels.stop()
        await self.events.close()

    async def _end_jobs(self) -> None:
        """Wait for the jobs in flight (what the drain left of JOB_GRACE_S), then cut short
        those still going."""
        if not self._jobs:
            return
        going = set(self._jobs)
        if (grace := JOB_GRACE_S - self.drain_s) > 0:
            _, going = await asyncio.wait(going, timeout=grace)
        for task in going:
            task.cancel()
        if going:
            await asyncio.wait(going, timeout=JOB_GRACE_S)


@asynccontextmanager
async def open_runtime(config: Settings, *, executes_runs: bool) -> AsyncIterator[RunRuntime]:
    """Open the checkpointer, the agent and the run layer for this process's lifetime (set
    the runtime's `drain_s` before leaving, to let its runs finish)."""
    async with open_checkpointer(config) as checkpointer, open_mcp(config) as mcp:
        runtime = RunRuntime(
            config,
            AgentService(config, checkpointer, mcp, get_redis()),
            executes_runs=executes_runs,
        )
        await runtime.start()
        try:
            yield runtime
        finally:
            await runtime.stop()


def describe(runtime: RunRuntime) -> dict[str, Any]:
    """What a start-up log line says about the run layer."""
    return {
        "queue": "redis-streams" if runtime.queue.distributed else "in-process",
        "executes_runs": runtime.executes_runs,
        "worker_id": runtime.worker_id,
    }
