"""Retention: keep the newest AGENT_CHECKPOINT_RETENTION checkpoints per thread and delete
threads idle for AGENT_THREAD_TTL_DAYS (their runs stay in the history, flagged).

The job runs on the run queue (taskiq, task `agent.retention`): every process's runtime queues
it every AGENT_RETENTION_INTERVAL_SECONDS, and with Redis a `SET NX EX` claim lets one process
per interval do so, so replicas don't pile copies up; a worker executes it. It works in batches
of AGENT_RETENTION_BATCH_SIZE threads, one short transaction per thread, so a run saving its
checkpoint never waits long. `agent-retention [--dry-run]` runs it on demand.

Why not taskiq's scheduler (`TaskiqScheduler` and the `taskiq scheduler` command): it is one
more process to deploy, which must run exactly once (two would queue every job twice), and it
has no in-process mode for the embedded default (SQLite, no Redis). A loop that queues the job
needs neither, and a job queued twice only finds nothing left to do.
"""

import asyncio
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel

from app.core.config import Settings
from app.core.db import SessionMaker
from app.core.redis import get_redis
from app.crud import checkpoint as crud_checkpoint
from app.crud import thread as crud_thread
from app.models import utcnow

if TYPE_CHECKING:
    from app.services.runs.runtime import RunRuntime

logger = structlog.get_logger(__name__)
CLAIM_KEY = "agent:retention:claim"


class RetentionReport(BaseModel):
    """What one pass did (or, with dry_run, would do)."""

    dry_run: bool
    threads_pruned: int = 0
    checkpoints_deleted: int = 0
    threads_expired: int = 0
    seconds: float = 0.0


async def apply_retention(
    config: Settings, checkpointer: BaseCheckpointSaver[Any] | None, *, dry_run: bool = False
) -> RetentionReport:
    """One pass over every thread, in batches."""
    started = time.monotonic()
    report = RetentionReport(dry_run=dry_run)
    if checkpointer is not None and config.AGENT_CHECKPOINT_RETENTION > 0:
        await _prune(config, checkpointer, report)
    if config.AGENT_THREAD_TTL_DAYS > 0:
        await _expire(config, checkpointer, report)
    report.seconds = round(time.monotonic() - started, 3)
    logger.info("retention.done", **report.model_dump())
    return report


async def _prune(
    config: Settings, checkpointer: BaseCheckpointSaver[Any], report: RetentionReport
) -> None:
    keep, batch, after = config.AGENT_CHECKPOINT_RETENTION, config.AGENT_RETENTION_BATCH_SIZE, ""
    while thread_ids := await crud_checkpoint.threads_over(checkpointer, keep, batch, after):
        for thread_id in thread_ids:
            deleted = await crud_checkpoint.keep_latest(
                checkpointer, thread_id, keep, dry_run=report.dry_run
            )
            report.threads_pruned += 1 if deleted else 0
            report.checkpoints_deleted += deleted
        after = thread_ids[-1]
        await asyncio.sleep(0)  # let runs in this process go between batches


async def _expire(
    config: Settings, checkpointer: BaseCheckpointSaver[Any] | None, report: RetentionReport
) -> None:
    idle_before = utcnow() - timedelta(days=config.AGENT_THREAD_TTL_DAYS)
    after: uuid.UUID | None = None
    while True:
        async with SessionMaker() as session:
            thread_ids = await crud_thread.idle_thread_ids(
                session=session,
                idle_before=idle_before,
                limit=config.AGENT_RETENTION_BATCH_SIZE,
                after=after,
            )
            if not thread_ids:
                return
            for thread_id in thread_ids:
                if report.dry_run:
                    report.threads_expired += 1
                    continue
                # The row first, only if still idle: a run starting now then finds no thread
                # instead of losing its checkpoints underneath it.
                if await crud_thread.delete_idle_thread(
                    session=session, thread_id=thread_id, idle_before=idle_before
                ):
                    if checkpointer is not None:
                        await checkpointer.adelete_thread(str(thread_id))
                    report.threads_expired += 1
        after = thread_ids[-1]
        await asyncio.sleep(0)


async def claim_interval(config: Settings, owner: str) -> bool:
    """Whether this process queues the job this interval (always, without Redis)."""
    redis = get_redis() if config.redis_url else None
    if redis is None:
        return True
    ttl = max(1, int(config.AGENT_RETENTION_INTERVAL_SECONDS))
    try:
        return bool(await redis.set(CLAIM_KEY, owner, nx=True, ex=ttl))
    except Exception:
        logger.warning("retention.claim_failed", exc_info=True)
        return False


async def queue_forever(runtime: "RunRuntime") -> None:
    """Queue the retention job every AGENT_RETENTION_INTERVAL_SECONDS (first after one
    interval, so a restart loop doesn't run it each time)."""
    interval = runtime.settings.AGENT_RETENTION_INTERVAL_SECONDS
    while True:
        await asyncio.sleep(interval)
        try:
            if await claim_interval(runtime.settings, runtime.worker_id):
                await runtime.queue.enqueue_maintenance()
        except Exception:
            logger.exception("retention.queue_failed")
