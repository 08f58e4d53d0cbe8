"""A real `python -m app.worker` serves its own /metrics (WORKER_METRICS_PORT), behind the metrics
token, and the runs it executes show up there — what Prometheus scrapes on every worker replica."""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.postgres import free_port
from tests.support.processes import (
    child_env,
    start_api,
    start_run_worker,
    stop,
    wait_healthy,
    wait_log_line,
)
from tests.support.redis import RedisServer
from tests.support.sse import iter_sse_ids
from tests.utils import API, create_user_and_login

TOKEN = "worker-scrape-secret"


def _completed_runs(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "agent_invocations_by_status_total"
        and sample.labels.get("status") == "completed"
    )


@pytest.fixture(scope="module")
def split(
    runs_redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """One API process (no in-process worker) and one worker with its metrics port."""
    logs: Path = tmp_path_factory.mktemp("worker-metrics")
    multiproc = logs / "multiproc"
    multiproc.mkdir()
    env = child_env(
        REDIS_URL=runs_redis.url.replace("/0", "/3"),
        AGENT_INPROCESS_WORKER="false",
        METRICS_BEARER_TOKEN=TOKEN,
    )
    api_port, metrics_port = free_port(), free_port()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(start_api(api_port, env, logs / "api.log"))
        worker_env = {
            **env,
            "WORKER_METRICS_PORT": str(metrics_port),
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        }
        processes.append(start_run_worker(worker_env, logs / "worker.log"))
        wait_healthy(processes[0], api_port, logs / "api.log")
        wait_log_line(processes[1], logs / "worker.log", "worker.ready")
        yield f"http://127.0.0.1:{api_port}{API}", f"http://127.0.0.1:{metrics_port}/metrics"
    finally:
        stop(processes)


async def test_worker_metrics_count_the_runs_it_executes(client, split: tuple[str, str]) -> None:
    api, metrics = split
    headers, _ = await create_user_and_login(client)
    async with httpx.AsyncClient(timeout=60) as http:
        assert (await http.get(metrics)).status_code == 401
        scrape = {"Authorization": f"Bearer {TOKEN}"}
        before = await http.get(metrics, headers=scrape)
        assert before.status_code == 200, before.text
        payload = {"message": "hello"}
        async with http.stream(
            "POST", f"{api}/agent/run/stream", json=payload, headers=headers
        ) as r:
            assert r.status_code == 200, await r.aread()
            types = [event["type"] async for _, event in iter_sse_ids(r)]
        assert types[-1] == "run_completed", types
        after = await http.get(metrics, headers=scrape)
    assert _completed_runs(after.text) - _completed_runs(before.text) == 1
