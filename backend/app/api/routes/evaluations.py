"""Evaluation jobs (superusers): start an LLM-as-judge run in the background, follow it."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from app.api.deps import CurrentSuperuser, RuntimeDep, SessionDep, SkipQuery
from app.api.errors import authenticated_responses, error_responses
from app.api.rate_limit import evaluation_rate_limit
from app.evaluation.schemas import EvaluationJobCreate
from app.models import EvaluationJobPublic, EvaluationJobsPublic
from app.services import evaluation_jobs

router = APIRouter(
    prefix="/agent/evaluations", tags=["evaluations"], responses=authenticated_responses()
)


@router.post(
    "",
    response_model=EvaluationJobPublic,
    status_code=202,
    responses=error_responses(409, 429),
    dependencies=[Depends(evaluation_rate_limit)],
)
async def start_evaluation(
    session: SessionDep,
    current_user: CurrentSuperuser,
    runtime: RuntimeDep,
    job_in: EvaluationJobCreate,
) -> Any:
    """Start an evaluation job with the CLI's options (queued for whichever process executes
    runs); poll it with GET /agent/evaluations/{id} on any replica."""
    await evaluation_jobs.check_options(job_in)
    return await evaluation_jobs.start_job(session, current_user, job_in, runtime)


@router.get("", response_model=EvaluationJobsPublic)
async def list_evaluations(
    session: SessionDep,
    _superuser: CurrentSuperuser,
    skip: SkipQuery = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """Evaluation jobs, newest first."""
    jobs, count = await evaluation_jobs.list_jobs(session, skip=skip, limit=limit)
    return EvaluationJobsPublic(
        data=[EvaluationJobPublic.model_validate(j) for j in jobs], count=count
    )


@router.get("/{job_id}", response_model=EvaluationJobPublic)
async def read_evaluation(
    session: SessionDep, _superuser: CurrentSuperuser, job_id: uuid.UUID
) -> Any:
    """One job: status, progress counters, and the summary once it has finished."""
    job = await evaluation_jobs.get_job(session, job_id)
    if job is None:
        raise HTTPException(status_code=404, detail="Evaluation job not found")
    return job
