"""The job queue that hands runs to workers: taskiq.

Why taskiq (0.13) rather than SAQ or procrastinate: we need one mechanism that covers the
embedded default (SQLite, no Redis, one process) and a distributed deployment. taskiq has an
in-memory broker that executes in the same process *and* a maintained Redis Streams broker
(taskiq-redis, consumer groups with acknowledgement) behind the same task API. SAQ has Redis
and PostgreSQL queues but nothing in-process, so the embedded mode would need a second
mechanism; procrastinate is PostgreSQL-only. Aborts and heartbeats, which SAQ has and taskiq
lacks, we need at the run level anyway (a lease on the run row, cancel over Redis pub/sub), so
they don't tip the balance.

A job carries only the run id and how to execute it; the run row is the source of truth, so a
job delivered twice finds its run no longer `pending` and does nothing. Evaluation jobs started
from the API go through the same queue (task `evaluation.run_job`, carrying the job id): the
`evaluation_job` row is their source of truth in the same way.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from redis.exceptions import RedisError
from taskiq import AcknowledgeType, AsyncBroker, InMemoryBroker
from taskiq.exceptions import SendTaskError
from taskiq.receiver import Receiver
from taskiq_redis import RedisStreamBroker

from app.core.config import Settings
from app.core.redis import RESILIENT

logger = structlog.get_logger(__name__)
TASK_NAME = "agent.execute_run"
MAINTENANCE_TASK_NAME = "agent.retention"
EVALUATION_TASK_NAME = "evaluation.run_job"
TITLE_TASK_NAME = "threads.title"
QUEUE_NAME = "agent:runs:queue"
QUEUE_MAX_LEN = 100_000  # far past any backlog a deployment should have (see below)
RELISTEN_AFTER_S = 0.5  # after a Redis error, between attempts to listen again
Execute = Callable[[str, bool, dict[str, Any] | None, dict[str, Any] | None], Awaitable[None]]
ExecuteJob = Callable[[str], Awaitable[None]]
Maintain = Callable[[], Awaitable[Any]]


class QueueError(Exception):
    """The queue could not take the job."""


class RunQueue:
    """Enqueue runs; in a worker, also receive and execute them."""

    def __init__(
        self,
        config: Settings,
        execute: Execute,
        *,
        consume: bool,
        maintain: Maintain | None = None,
        execute_evaluation: ExecuteJob | None = None,
        title_thread: ExecuteJob | None = None,
    ) -> None:
        self.distributed = config.redis_url is not None
        self.broker: AsyncBroker
        if config.redis_url is not None:
            self.broker = RedisStreamBroker(
                config.redis_url,
                queue_name=QUEUE_NAME,
                consumer_group_name="agent-workers",
                # A job is acknowledged on receipt (a run that dies midway is `interrupted`,
                # never re-executed); this only re-delivers jobs whose worker died between
                # receiving and acknowledging.
                idle_timeout=int(config.AGENT_RUN_LEASE_SECONDS * 2000),
                # A group made anew (a Redis restarted without its data loses it) reads the
                # stream from its start, so jobs queued before a worker re-made it still run
                # (a job delivered twice finds its run no longer `pending`).
                consumer_id="0",
                unacknowledged_lock_timeout=30,
                # Delivered jobs stay in the stream until trimmed: keep roughly the newest
                # QUEUE_MAX_LEN (a job is a run id and a few options, well under 1 kB).
                maxlen=QUEUE_MAX_LEN,
                approximate=True,
                xread_block=1000,
                max_connection_pool_size=100,
                **RESILIENT,
            )
        else:
            self.broker = InMemoryBroker(
                max_async_tasks=config.AGENT_WORKER_CONCURRENCY, propagate_exceptions=False
            )

        # taskiq registers plain functions (it renames them for process pools), not methods.
        async def execute_run(
            run_id: str,
            stream_tokens: bool,
            resume: dict[str, Any] | None,
            options: dict[str, Any] | None = None,
        ) -> None:
            await execute(run_id, stream_tokens, resume, options)

        self.task = self.broker.register_task(execute_run, task_name=TASK_NAME)

        async def run_maintenance() -> None:
            if maintain is not None:
                await maintain()

        # Periodic upkeep (app.services.retention) goes through the same queue and workers.
        self.maintenance = self.broker.register_task(
            run_maintenance, task_name=MAINTENANCE_TASK_NAME
        )
        self.evaluation_task = self._job_task(execute_evaluation, EVALUATION_TASK_NAME)
        self.title_task = self._job_task(title_thread, TITLE_TASK_NAME)
        self._consume = consume and self.distributed
        self._concurrency = config.AGENT_WORKER_CONCURRENCY
        self._finish = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None

    def _job_task(self, job: ExecuteJob | None, name: str) -> Any:
        """Register `job` (called with one id) as the task `name`; None without a job."""
        if job is None:
            return None

        async def run_job(job_id: str) -> None:
            await job(job_id)

        return self.broker.register_task(run_job, task_name=name)

    async def start(self) -> None:
        """Connect, and start receiving jobs when this process executes runs."""
        if self._consume:
            self.broker.is_worker_process = True
        await self.broker.startup()
        if self._consume:
            self._listener = asyncio.create_task(self._listen_forever())

    async def _listen_forever(self) -> None:
        """Receive jobs until stopped; when Redis fails, listen again once it answers.

        taskiq's receiver ends at the first Redis error, which would leave this process
        executing nothing after a Redis blip. `startup` again re-makes the consumer group a
        restarted Redis may have lost.
        """
        while not self._finish.is_set():
            receiver = Receiver(
                self.broker,
                max_async_tasks=self._concurrency,
                ack_type=AcknowledgeType.WHEN_RECEIVED,
                run_startup=False,
                propagate_exceptions=False,
            )
            try:
                await receiver.listen(self._finish)
            except Exception as exc:  # RedisError or OSError, possibly in an ExceptionGroup
                logger.warning("queue.listener_failed", error=repr(exc))
            while not self._finish.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finish.wait(), RELISTEN_AFTER_S)
                try:
                    await self.broker.startup()
                    break
                except (RedisError, OSError) as exc:
                    logger.warning("queue.redis_unavailable", error=repr(exc))

    def stop_receiving(self) -> None:
        """Take no more jobs; those received go on (with Redis: the receiver stops fetching)."""
        self._finish.set()

    async def stop(self) -> None:
        """Stop receiving; close the broker."""
        self._finish.set()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        with contextlib.suppress(Exception):
            await self.broker.shutdown()

    async def enqueue(
        self,
        run_id: uuid.UUID,
        *,
        stream_tokens: bool,
        resume: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        """Hand the run to a worker."""
        await self._send(self.task, "run_id", str(run_id), stream_tokens, resume, options)

    async def enqueue_evaluation(self, job_id: uuid.UUID) -> None:
        """Hand an evaluation job to a worker."""
        if self.evaluation_task is None:
            raise QueueError("this queue was built without the evaluation task")
        await self._send(self.evaluation_task, "job_id", str(job_id))

    async def enqueue_title(self, run_id: uuid.UUID) -> None:
        """Ask a worker to title the run's new thread (app.services.runs.titles)."""
        if self.title_task is not None:
            await self._send(self.title_task, "run_id", str(run_id))

    async def _send(self, task: Any, id_name: str, *args: Any) -> None:
        """`kiq` with one retry: a pooled connection Redis closed while idle fails the first
        attempt and is replaced for the second."""
        for attempt in (1, 2):
            try:
                await task.kiq(*args)
                return
            except (SendTaskError, RedisError, OSError) as exc:
                logger.warning(
                    "runs.enqueue_failed",
                    **{id_name: args[0]},
                    attempt=attempt,
                    error=repr(exc.__cause__ or exc),
                )
                if attempt == 2:
                    raise QueueError(str(exc)) from exc

    async def enqueue_maintenance(self) -> None:
        """Queue the retention job for a worker."""
        try:
            await self.maintenance.kiq()
        except (SendTaskError, RedisError, OSError) as exc:
            raise QueueError(str(exc)) from exc
