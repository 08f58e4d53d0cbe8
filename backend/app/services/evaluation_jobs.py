"""Evaluation jobs started from the API: queued on the run queue (taskiq), executed by whichever
process executes runs, progress persisted in `evaluation_job` as it runs.

Any API replica answers a job's status from that row. A heartbeat column tells live jobs from
jobs whose process died: those are marked `interrupted` by the sweeper or when read.
"""

import asyncio
import os
import socket
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import settings
from app.core.db import SessionMaker
from app.core.telemetry import get_langfuse
from app.crud import evaluation as crud_evaluation
from app.evaluation import EvaluationProgress, Evaluator
from app.evaluation.metrics import load_metrics, select_metrics
from app.evaluation.report import summary_only
from app.evaluation.schemas import EvaluationJobCreate
from app.models import EvaluationJob, EvaluationJobStatus, User, utcnow
from app.services.runs.queue import QueueError

if TYPE_CHECKING:
    from app.services.runs.runtime import RunRuntime

logger = structlog.get_logger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
PROGRESS_WRITE_SECONDS = 1.0
_tasks: dict[uuid.UUID, asyncio.Task[Any]] = {}  # the jobs this process is executing
_start_lock = asyncio.Lock()  # this process's starts; across replicas, a database lock


class EvaluationQueueUnavailable(Exception):
    """The job could not be queued (it is recorded failed)."""


class JobAlreadyRunning(Exception):
    """Another evaluation job is in progress (two would judge the same traces twice)."""

    def __init__(self, job_id: uuid.UUID) -> None:
        super().__init__(f"evaluation job {job_id} is already running")
        self.job_id = job_id


def _stale_before() -> Any:
    return utcnow() - timedelta(seconds=settings.EVALUATION_JOB_STALE_SECONDS)


async def _update(job_id: uuid.UUID, **fields: Any) -> None:
    async with SessionMaker() as session:
        await crud_evaluation.update_job(session=session, job_id=job_id, **fields)


def _counters(progress: EvaluationProgress) -> dict[str, int]:
    return {
        "traces_seen": progress.traces_seen,
        "judgments_total": progress.judgments_total,
        "judgments_done": progress.judgments_done,
        "judgments_failed": progress.judgments_failed,
        "judgments_skipped": progress.judgments_skipped,
    }


async def _heartbeat(job_id: uuid.UUID) -> None:
    """Keep the job visibly alive even while judge calls are slow."""
    interval = settings.EVALUATION_JOB_STALE_SECONDS / 4
    while True:
        await asyncio.sleep(interval)
        try:
            await _update(job_id, heartbeat_at=utcnow())
        except Exception:
            logger.warning("evaluation_job.heartbeat_failed", job_id=str(job_id), exc_info=True)


async def _run_job(job_id: uuid.UUID, options: EvaluationJobCreate) -> None:
    """The job's body: run the evaluator, persist progress, then the summary or the error."""
    last_write = 0.0

    async def on_progress(progress: EvaluationProgress) -> None:
        nonlocal last_write
        if time.monotonic() - last_write < PROGRESS_WRITE_SECONDS:
            return
        last_write = time.monotonic()
        await _update(job_id, heartbeat_at=utcnow(), **_counters(progress))

    heartbeat = asyncio.create_task(_heartbeat(job_id))
    evaluator = Evaluator(options, on_progress=on_progress)
    try:
        report = await evaluator.run(generate_report_file=options.write_report)
        await _update(
            job_id,
            status=EvaluationJobStatus.completed,
            summary=summary_only(report),
            report_path=report.get("report_path"),
            finished_at=utcnow(),
            heartbeat_at=utcnow(),
            **_counters(evaluator.progress),
        )
    except asyncio.CancelledError:
        await asyncio.shield(
            _update(
                job_id,
                status=EvaluationJobStatus.interrupted,
                error="The server shut down while this evaluation was running.",
                finished_at=utcnow(),
                **_counters(evaluator.progress),
            )
        )
        raise
    except Exception as exc:
        logger.warning("evaluation_job.failed", job_id=str(job_id), exc_info=True)
        await _update(
            job_id,
            status=EvaluationJobStatus.failed,
            error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=utcnow(),
            **_counters(evaluator.progress),
        )
    finally:
        heartbeat.cancel()


class InvalidOptionError(ValueError):
    """An option that can't run, naming the field (answered like a validation error)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


async def check_options(options: EvaluationJobCreate) -> None:
    """Reject options that cannot run: unknown metrics, or Langfuse as the source when it is
    not configured."""
    try:
        select_metrics(await asyncio.to_thread(load_metrics), options.metrics)
    except ValueError as exc:
        raise InvalidOptionError("metrics", str(exc)) from exc
    if options.source == "langfuse" and get_langfuse() is None:
        raise InvalidOptionError(
            "source", "Langfuse is not configured (LANGFUSE_PUBLIC_KEY/SECRET_KEY); use source=db"
        )


async def start_job(
    session: AsyncSession, user: User, options: EvaluationJobCreate, runtime: "RunRuntime"
) -> EvaluationJob:
    """Record the job `queued` and put it on the run queue; refuse while another one is alive
    (checked under a database lock, so two replicas can't both start one)."""
    async with _start_lock:
        await crud_evaluation.lock_job_starts(session=session)
        running = await crud_evaluation.active_job(session=session, fresh_after=_stale_before())
        if running is not None:
            running_id = running.id
            await session.rollback()  # releases the lock
            raise JobAlreadyRunning(running_id)
        job = await crud_evaluation.create_job(
            session=session,
            created_by=user.id,
            options=options.model_dump(mode="json"),
            worker=WORKER_ID,
        )
    try:
        await runtime.queue.enqueue_evaluation(job.id)
    except QueueError as exc:
        await _update(
            job.id,
            status=EvaluationJobStatus.failed,
            error="The job queue was unavailable; nothing was run.",
            finished_at=utcnow(),
        )
        raise EvaluationQueueUnavailable(str(exc)) from exc
    return job


async def execute_job(job_id: str) -> None:
    """The queue's task: run a `queued` job here (a job delivered twice, or already swept as
    interrupted, is left alone)."""
    key = uuid.UUID(job_id)
    async with SessionMaker() as session:
        job = await crud_evaluation.claim_job(session=session, job_id=key, worker=WORKER_ID)
    if job is None:
        logger.info("evaluation_job.not_claimed", job_id=job_id)
        return
    task = asyncio.current_task()
    if task is not None:
        _tasks[key] = task
    try:
        await _run_job(key, EvaluationJobCreate.model_validate(job.options))
    finally:
        _tasks.pop(key, None)


async def _expire_if_stale(session: AsyncSession, job: EvaluationJob) -> EvaluationJob:
    """A job whose worker stopped heart-beating is reported (and stored) as interrupted."""
    stale = job.heartbeat_at is not None and job.heartbeat_at < _stale_before()
    if job.status in crud_evaluation.ACTIVE_JOB_STATUSES and stale and job.id not in _tasks:
        await crud_evaluation.mark_stale_jobs_interrupted(
            session=session, stale_before=_stale_before()
        )
        await session.refresh(job)
    return job


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> EvaluationJob | None:
    """One job, with a dead worker's job shown as interrupted."""
    job = await crud_evaluation.get_job(session=session, job_id=job_id)
    return None if job is None else await _expire_if_stale(session, job)


async def list_jobs(
    session: AsyncSession, *, skip: int, limit: int
) -> tuple[list[EvaluationJob], int]:
    """A page of jobs, newest first (read-only: the sweeper marks dead jobs)."""
    return await crud_evaluation.list_jobs(session=session, skip=skip, limit=limit)


async def sweep_stale_jobs() -> int:
    """Jobs left active by a dead process (no heartbeat for EVALUATION_JOB_STALE_SECONDS)
    become `interrupted`."""
    async with SessionMaker() as session:
        count = await crud_evaluation.mark_stale_jobs_interrupted(
            session=session, stale_before=_stale_before()
        )
    if count:
        logger.warning("evaluation_job.stale_jobs_interrupted", count=count)
    return count


async def sweep_forever() -> None:
    """Sweep stale jobs at start-up and then twice per staleness period, until cancelled."""
    while True:
        try:
            await sweep_stale_jobs()
        except Exception:
            logger.warning("evaluation_job.sweep_failed", exc_info=True)
        await asyncio.sleep(settings.EVALUATION_JOB_STALE_SECONDS / 2)


async def shutdown_jobs() -> None:
    """At shutdown: cancel the jobs this process executes; each marks itself interrupted (5 s
    at most)."""
    tasks = [task for task in _tasks.values() if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=5.0)
