"""Evaluation jobs over the API: start, poll until done, summary; permissions; stale jobs."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx

from app.core.db import SessionMaker
from app.models import EvaluationJob, utcnow
from app.services import evaluation_jobs
from tests.evaluation.helpers import create_run, seed_traces
from tests.fakes.langfuse import LangfuseFake
from tests.fakes.llm_script import structured
from tests.fakes.openai_server import OpenAIStub
from tests.utils import API, create_user_and_login

JOBS = f"{API}/agent/evaluations"


async def wait_for_job(
    client: httpx.AsyncClient, headers: dict[str, str], job_id: str
) -> dict[str, Any]:
    """Poll the job until it leaves queued/running (at most 30 s)."""
    async with asyncio.timeout(30):
        while True:
            job = (await client.get(f"{JOBS}/{job_id}", headers=headers)).json()
            if job["status"] not in ("queued", "running"):
                return job
            await asyncio.sleep(0.05)


async def test_job_runs_in_the_background_and_stores_its_summary(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str], langfuse_off: None
) -> None:
    user_headers, user = await create_user_and_login(client)
    runs = [await create_run(user.id, message=f"show my items {i}") for i in range(3)]

    started = await client.post(
        JOBS,
        json={"source": "db", "judge": "offline", "metrics": ["helpfulness", "toxicity"]},
        headers=superuser_token_headers,
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    assert started.json()["status"] in ("queued", "running")

    job = await wait_for_job(client, superuser_token_headers, job_id)

    assert job["status"] == "completed", job
    assert (
        job["judgments_total"] == 6 and job["judgments_done"] == 6 and job["judgments_failed"] == 0
    )
    assert job["traces_seen"] == 3 and job["finished_at"] is not None
    summary = job["summary"]
    assert summary["total_traces"] == 3 and summary["judge"] == "offline"
    assert set(summary["metrics_summary"]) == {"helpfulness", "toxicity"}
    assert "successful_traces_details" not in summary  # per-trace detail stays in the report file
    assert job["options"]["metrics"] == ["helpfulness", "toxicity"]

    listed = (await client.get(JOBS, headers=superuser_token_headers)).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == job_id

    # The run detail (the owner's view) shows the judge's scores.
    detail = (await client.get(f"{API}/agent/runs/{runs[0].id}", headers=user_headers)).json()
    assert set(detail["evaluations"]) == {"helpfulness", "toxicity"}
    assert {e["metric_name"] for e in detail["evaluations_detail"]} == {"helpfulness", "toxicity"}
    assert detail["evaluations_detail"][0]["eval_metadata"]["reasoning"]


async def test_job_over_langfuse_with_the_llm_judge(
    client: httpx.AsyncClient,
    superuser_token_headers: dict[str, str],
    langfuse_on: LangfuseFake,
    judge_stub: OpenAIStub,
) -> None:
    seed_traces(langfuse_on, 4)
    judge_stub.set_responder(lambda body: structured({"reasoning": "ok", "score": 0.75}))
    started = await client.post(
        JOBS, json={"metrics": ["relevancy"], "concurrency": 2}, headers=superuser_token_headers
    )
    job = await wait_for_job(client, superuser_token_headers, started.json()["id"])
    assert job["status"] == "completed", job
    assert job["summary"]["source"] == "langfuse" and job["summary"]["model"] == "gpt-4o-mini"
    assert job["summary"]["metrics_summary"]["relevancy"]["avg_score"] == 0.75
    assert len(langfuse_on.scores()) == 4


async def test_only_superusers_and_valid_options(
    client: httpx.AsyncClient,
    superuser_token_headers: dict[str, str],
    normal_user_token_headers: dict[str, str],
    langfuse_off: None,
) -> None:
    body = {"source": "db", "judge": "offline"}
    assert (
        await client.post(JOBS, json=body, headers=normal_user_token_headers)
    ).status_code == 403
    assert (await client.get(JOBS, headers=normal_user_token_headers)).status_code == 403
    assert (
        await client.get(f"{JOBS}/{uuid.uuid4()}", headers=superuser_token_headers)
    ).status_code == 404

    for bad in (
        {"metrics": ["nope"], "judge": "offline"},
        {"source": "langfuse", "judge": "offline"},  # Langfuse is off
        {"concurrency": 0},
        {"hours": -1},
        {"unknown_option": True},
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    ):
        response = await client.post(JOBS, json=bad, headers=superuser_token_headers)
        assert response.status_code == 422 and response.json()["detail"], bad


async def test_a_second_job_is_refused_while_one_runs(
    client: httpx.AsyncClient,
    superuser_token_headers: dict[str, str],
    langfuse_off: None,
    judge_stub: OpenAIStub,
) -> None:
    _, user = await create_user_and_login(client)
    await create_run(user.id)
    judge_stub.script.latency = 1.0  # keeps the first job busy
    body = {"source": "db", "metrics": ["helpfulness"]}
    first = await client.post(JOBS, json=body, headers=superuser_token_headers)
    second = await client.post(JOBS, json=body, headers=superuser_token_headers)
    assert first.status_code == 202 and second.status_code == 409
    assert first.json()["id"] in second.json()["detail"]
    job = await wait_for_job(client, superuser_token_headers, first.json()["id"])
    assert job["status"] == "completed"


async def test_shutdown_interrupts_running_jobs_and_stale_jobs_are_swept(
    client: httpx.AsyncClient,
    superuser_token_headers: dict[str, str],
    langfuse_off: None,
    judge_stub: OpenAIStub,
) -> None:
    _, user = await create_user_and_login(client)
    await create_run(user.id)
    judge_stub.script.latency = 5.0
    started = await client.post(
        JOBS, json={"source": "db", "metrics": ["helpfulness"]}, headers=superuser_token_headers
    )
    job_id = started.json()["id"]
    await asyncio.sleep(0.3)
    await evaluation_jobs.shutdown_jobs()
    job = (await client.get(f"{JOBS}/{job_id}", headers=superuser_token_headers)).json()
    assert job["status"] == "interrupted" and "shut down" in job["error"]

    # A job left "running" by a process that died: its heartbeat is old.
    async with SessionMaker() as session:
        dead = EvaluationJob(status="running", heartbeat_at=utcnow() - timedelta(hours=1))
        alive = EvaluationJob(status="running", heartbeat_at=utcnow())
        session.add_all([dead, alive])
        await session.commit()
    assert await evaluation_jobs.sweep_stale_jobs() == 1
    statuses = {
        j["id"]: j["status"]
        for j in (await client.get(JOBS, headers=superuser_token_headers)).json()["data"]
    }
    assert statuses[str(dead.id)] == "interrupted" and statuses[str(alive.id)] == "running"
