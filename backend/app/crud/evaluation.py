"""Data access for judge scores (`agent_evaluation`), human feedback (`agent_feedback`) and
evaluation jobs (`evaluation_job`)."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import and_, col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import (
    AgentEvaluation,
    AgentFeedback,
    AgentFeedbackCreate,
    AgentRun,
    EvaluationJob,
    EvaluationJobStatus,
    utcnow,
)

ACTIVE_JOB_STATUSES = (EvaluationJobStatus.queued, EvaluationJobStatus.running)


async def get_feedback(
    *, session: AsyncSession, run_id: uuid.UUID, user_id: uuid.UUID
) -> AgentFeedback | None:
    """This user's feedback on this run."""
    statement = select(AgentFeedback).where(
        AgentFeedback.run_id == run_id, AgentFeedback.user_id == user_id
    )
    return (await session.exec(statement)).first()


async def upsert_feedback(
    *, session: AsyncSession, run_id: uuid.UUID, user_id: uuid.UUID, data: AgentFeedbackCreate
) -> AgentFeedback:
    """Create or update the one feedback row for (run, user) in one atomic statement.

    `INSERT ... ON CONFLICT DO UPDATE`: concurrent first submissions can't both insert, and no
    rollback is needed (a rollback would expire every object the request holds). An update
    writes only the fields the request sent: a thumb re-sent without a comment keeps it.
    """
    now = utcnow()
    dialect = session.bind.dialect.name if session.bind else "postgresql"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(AgentFeedback).values(
        id=uuid.uuid4(),
        run_id=run_id,
        user_id=user_id,
        score=data.score,
        comment=data.comment,
        labels=data.labels,
        created_at=now,
        updated_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["run_id", "user_id"],
        set_={**data.model_dump(include=data.model_fields_set), "updated_at": now},
    )
    await session.exec(statement)
    await session.commit()
    row = await session.exec(
        select(AgentFeedback)
        .where(AgentFeedback.run_id == run_id, AgentFeedback.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    return row.one()


async def delete_feedback(*, session: AsyncSession, feedback: AgentFeedback) -> None:
    """Remove a feedback row."""
    await session.delete(feedback)
    await session.commit()


async def create_job(
    *, session: AsyncSession, created_by: uuid.UUID, options: dict[str, Any], worker: str
) -> EvaluationJob:
    """Record a queued job."""
    job = EvaluationJob(
        created_by=created_by, options=options, worker=worker, heartbeat_at=utcnow()
    )
    session.add(job)
    await session.commit()
    await session.refresh(job)
    return job


# Any constant: the key of the PostgreSQL advisory lock that serialises job starts.
JOB_START_LOCK_KEY = 0x4556414C  # "EVAL"


async def lock_job_starts(*, session: AsyncSession) -> None:
    """Hold the job-start lock until this transaction ends (PostgreSQL; SQLite has one writer
    and the embedded app one process, so its caller's in-process lock is enough)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.exec(select(func.pg_advisory_xact_lock(JOB_START_LOCK_KEY)))


async def claim_job(
    *, session: AsyncSession, job_id: uuid.UUID, worker: str
) -> EvaluationJob | None:
    """Move a `queued` job to `running` for `worker` (None when it is not queued any more)."""
    now = utcnow()
    result = await session.exec(
        update(EvaluationJob)
        .where(
            col(EvaluationJob.id) == job_id,
            col(EvaluationJob.status) == EvaluationJobStatus.queued,
        )
        .values(status=EvaluationJobStatus.running, worker=worker, started_at=now, heartbeat_at=now)
    )
    await session.commit()
    if not result.rowcount:
        return None
    return await session.get(EvaluationJob, job_id)


async def get_job(*, session: AsyncSession, job_id: uuid.UUID) -> EvaluationJob | None:
    """One job."""
    return await session.get(EvaluationJob, job_id)


async def list_jobs(
    *, session: AsyncSession, skip: int, limit: int
) -> tuple[list[EvaluationJob], int]:
    """A page of jobs, newest first, and the total count."""
    count = (await session.exec(select(func.count()).select_from(EvaluationJob))).one()
    statement = (
        select(EvaluationJob)
        .order_by(col(EvaluationJob.created_at).desc())
        .offset(skip)
        .limit(limit)
    )
    return list((await session.exec(statement)).all()), count


async def update_job(*, session: AsyncSession, job_id: uuid.UUID, **fields: Any) -> None:
    """Write some of a job's columns."""
    await session.exec(
        update(EvaluationJob).where(col(EvaluationJob.id) == job_id).values(**fields)
    )
    await session.commit()


async def active_job(*, session: AsyncSession, fresh_after: datetime) -> EvaluationJob | None:
    """A queued or running job whose heartbeat is recent (so its worker is alive)."""
    statement = select(EvaluationJob).where(
        col(EvaluationJob.status).in_(ACTIVE_JOB_STATUSES),
        col(EvaluationJob.heartbeat_at) >= fresh_after,
    )
    return (await session.exec(statement)).first()


async def mark_stale_jobs_interrupted(
    *, session: AsyncSession, stale_before: datetime, worker: str | None = None
) -> int:
    """Mark active jobs interrupted: those with an old heartbeat, and all of `worker`'s."""
    condition = col(EvaluationJob.heartbeat_at) < stale_before
    if worker is not None:
        condition = or_(condition, col(EvaluationJob.worker) == worker)
    statement = (
        update(EvaluationJob)
        .where(col(EvaluationJob.status).in_(ACTIVE_JOB_STATUSES), condition)
        .values(
            status=EvaluationJobStatus.interrupted,
            finished_at=utcnow(),
            error="The server stopped while this evaluation was running.",
        )
    )
    result = await session.exec(statement)
    await session.commit()
    return int(result.rowcount or 0)


async def judge_scores(
    *,
    session: AsyncSession,
    run_ids: Sequence[uuid.UUID],
    versions: Mapping[str, str],
    judge_model: str,
) -> list[tuple[uuid.UUID, str, float]]:
    """(run id, metric, score) of the rows this judge model wrote with each metric's current
    prompt version (`versions`: metric name -> prompt version)."""
    if not run_ids or not versions:
        return []
    rows = await session.exec(
        select(AgentEvaluation.run_id, AgentEvaluation.metric_name, AgentEvaluation.score)
        .where(col(AgentEvaluation.run_id).in_(list(run_ids)))
        .where(AgentEvaluation.judge_model == judge_model)
        .where(
            or_(
                *(
                    and_(AgentEvaluation.metric_name == name, AgentEvaluation.prompt_version == v)
                    for name, v in versions.items()
                )
            )
        )
    )
    return list(rows.all())


async def save_judge_score(
    *,
    session: AsyncSession,
    run_id: uuid.UUID,
    metric_name: str,
    judge_model: str,
    prompt_version: str,
    score: float,
    metadata: dict[str, Any],
) -> None:
    """Insert or update the row for (run, metric, judge model, prompt version)."""
    existing = (
        await session.exec(
            select(AgentEvaluation).where(
                AgentEvaluation.run_id == run_id,
                AgentEvaluation.metric_name == metric_name,
                AgentEvaluation.judge_model == judge_model,
                AgentEvaluation.prompt_version == prompt_version,
            )
        )
    ).first()
    row = existing or AgentEvaluation(
        run_id=run_id,
        metric_name=metric_name,
        judge_model=judge_model,
        prompt_version=prompt_version,
        score=score,
    )
    row.score = score
    row.eval_metadata = metadata
    session.add(row)
    await session.commit()


async def judge_scored_runs(
    *, session: AsyncSession, metric_name: str, prompt_version: str, judge_model: str
) -> list[tuple[uuid.UUID, str | None, float]]:
    """(run id, trace id, score) of every run this judge model scored for the metric with this
    prompt version."""
    rows = await session.exec(
        select(AgentEvaluation.run_id, AgentRun.trace_id, AgentEvaluation.score)
        .join(AgentRun, col(AgentRun.id) == col(AgentEvaluation.run_id))
        .where(
            AgentEvaluation.metric_name == metric_name,
            AgentEvaluation.prompt_version == prompt_version,
            AgentEvaluation.judge_model == judge_model,
        )
    )
    return list(rows.all())


async def feedback_votes(
    *, session: AsyncSession, run_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, int, dict[str, str] | None]]:
    """(run id, +1/-1, per-metric labels) of every user's feedback on these runs."""
    if not run_ids:
        return []
    rows = await session.exec(
        select(AgentFeedback.run_id, AgentFeedback.score, AgentFeedback.labels).where(
            col(AgentFeedback.run_id).in_(list(run_ids))
        )
    )
    return [(run_id, score, dict(labels) if labels else None) for run_id, score, labels in rows]
