"""Two worker processes share one circuit breaker through Redis.

The API is this test's app (no in-process worker); the runs execute in two `app.worker`
processes on the same Redis.

Each worker executes one run at a time (AGENT_WORKER_CONCURRENCY=1) and two runs are sent at
once, so each worker executes one of them. The breaker opens after 3 failures: each worker's
run fails the primary at most twice (planner, executor). Shared through Redis the breaker is
open after the third, so the next two runs never call the primary; kept per process, each
worker would have seen only 2 failures and call it again.
(With Redis down each process keeps its own: tests/resilience/test_circuit_breaker.py.)
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.llm_script import Reply, error
from tests.resilience.conftest import is_planner
from tests.support.processes import child_env, start_run_worker, stop, wait_log_line
from tests.support.redis import RedisServer, start_redis
from tests.utils import API, create_user_and_login


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.close()


@pytest.fixture
def workers(
    shared_redis: RedisServer, openai_stub: Any, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """Two run workers on one Redis; the settings an API app needs to queue runs to them."""
    common = {
        "REDIS_URL": shared_redis.url.replace("/0", "/1"),
        "AGENT_INPROCESS_WORKER": "false",
        "LLM_MODEL_PROVIDER": "openai",
        "OPENAI_BASE_URL": openai_stub.base_url,
        "OPENAI_API_KEY": "test",
        "LLM_MODEL_NAME": "stub-model",
        "LLM_FALLBACK_MODEL_NAME": "stub-fallback",
        "LLM_MAX_RETRIES": "0",
        "LLM_TIMEOUT_SECONDS": "5",
        "LLM_BREAKER_FAILURE_THRESHOLD": "3",
        "LLM_BREAKER_COOLDOWN_SECONDS": "120",
        "AGENT_MODEL_TITLES": "false",  # the test counts every model call of the runs
    }
    env = child_env(**common, AGENT_WORKER_CONCURRENCY="1", LANGFUSE_ENABLED="false")
    started = []
    try:
        for n in range(2):
            started.append(start_run_worker(env, tmp_path / f"worker{n}.log"))
        for n in range(2):
            wait_log_line(started[n], tmp_path / f"worker{n}.log", "worker.ready")
        yield common
    finally:
        stop(started)


async def test_workers_share_the_breaker_through_redis(
    workers: dict[str, Any], openai_stub: Any, agent_settings: Any, app_client: Any
) -> None:
    agent_settings(REDIS_URL=workers["REDIS_URL"], AGENT_INPROCESS_WORKER=False)

    def respond(body: dict[str, Any]) -> Any:
        if body["model"] == "stub-model":
            return error(500)
        # The fallback plans slowly, so the two runs overlap (one per worker).
        return Reply(structured={"steps": []}, delay=1.0) if is_planner(body) else None

    openai_stub.set_responder(respond)
    async with app_client() as ac:
        http = ac.http
        headers, _ = await create_user_and_login(http)

        async def two_runs() -> list[dict[str, Any]]:
            answers = await asyncio.gather(
                *(
                    http.post(f"{API}/agent/run", json={"message": f"run {n}"}, headers=headers)
                    for n in range(2)
                )
            )
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
            return [a.json() for a in answers]

        first = await two_runs()
        primary_calls = [r for r in openai_stub.requests if r["model"] == "stub-model"]
        # Both workers' planners fail it (2); their executors' calls make 3 and maybe 4 (the
        # last may be skipped already when the breaker opened in between).
        assert len(primary_calls) in (3, 4)
        assert all(run["model"] == "stub-fallback" for run in first)
        openai_stub.script.requests.clear()
        second = await two_runs()
    assert [r for r in openai_stub.requests if r["model"] == "stub-model"] == []
    assert [run["degraded_reason"] for run in second] == ["breaker_open", "breaker_open"]
