"""Dashboards and alert rules verified on a real Prometheus scraping real backends.

Two backends run with uvicorn on loopback against their own PostgreSQL database:
  A: 2 workers in multiprocess mode, the offline model (successful runs, a tool error, a stream);
  B: 1 worker, an OpenAI client pointed at a closed port (LLM errors) and a rate limit of 2 runs.
Debian's Prometheus scrapes both every second with the alert rules loaded; then every PromQL
expression of the Grafana dashboards and the alert rules must return data.
"""

import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from app.core.config import BACKEND_DIR
from tests.fakes.background import closed_port
from tests.observability.promql import RULE_FILES, dashboard_expressions, rule_expressions
from tests.support.postgres import PostgresServer

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
SUCCESSFUL_RUNS = 5  # on backend A, see `traffic`
FAILED_RUNS = 2  # on backend B

pytestmark = pytest.mark.timeout(300)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """A child process in its own process group, with its output in a file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ---\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)


def start(name: str, args: list[str], env: dict[str, str], workdir: Path) -> Process:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            args,
            cwd=BACKEND_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name, popen, log)


def wait_until(probe: Any, timeout: float, what: str, processes: list[Process]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.popen.poll() is not None:
                raise AssertionError(
                    f"{process.name} exited while waiting for {what}\n{process.tail()}"
                )
        try:
            result = probe()
        except (httpx.HTTPError, OSError):
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n" + "\n".join(p.tail() for p in processes))


@dataclass
class Stack:
    """The running backends and Prometheus."""

    backend_a: str
    backend_b: str
    prometheus: str
    processes: list[Process]
    # Queries are evaluated at this instant (set just after the traffic), so their windows
    # contain the traffic however long the tests take.
    at: float | None = None

    def query(self, promql: str) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"query": promql}
        if self.at is not None:
            params["time"] = self.at
        response = httpx.get(f"{self.prometheus}/api/v1/query", params=params, timeout=10)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", (promql, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def scalar(self, promql: str) -> float:
        result = self.query(promql)
        assert len(result) == 1, (promql, result)
        return float(result[0]["value"][1])


def backend_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        {
            "DATABASE_URL": database_url,
            "APP_ENV": "test",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
            "FRONTEND_DIST_DIR": "",
            "RATE_LIMIT_ENABLED": "false",
            "LANGFUSE_ENABLED": "false",
            "REDIS_URL": "",
            "REDIS_HOST": "",
            **extra,
        }
    )
    return env


def login(http: httpx.Client) -> dict[str, str]:
    response = http.post(
        "/api/v1/login/access-token",
        data={
            "username": os.environ["FIRST_SUPERUSER"],
            "password": os.environ["FIRST_SUPERUSER_PASSWORD"],
        },
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def traffic(stack: Stack) -> None:
    """Successful runs, a tool error and a stream on A; LLM errors and a rate limit on B."""
    with httpx.Client(base_url=stack.backend_a, timeout=60) as http:
        headers = login(http)
        created = http.post("/api/v1/items/", json={"title": "Blue lamp"}, headers=headers)
        assert created.status_code == 200, created.text
        for message in (
            "show my items",
            "show my items",
            "hello",
            "who is nobody-here@example.com",
        ):
            response = http.post("/api/v1/agent/run", json={"message": message}, headers=headers)
            assert response.status_code == 200 and response.json()["status"] == "success", (
                response.text
            )
        streamed = http.post(
            "/api/v1/agent/run/stream", json={"message": "show my items"}, headers=headers
        )
        assert streamed.status_code == 200 and "run_completed" in streamed.text
        assert http.get(f"/api/v1/items/{uuid.uuid4()}", headers=headers).status_code == 404
    with httpx.Client(base_url=stack.backend_b, timeout=60) as http:
        headers = login(http)
        for _ in range(FAILED_RUNS):
            response = http.post("/api/v1/agent/run", json={"message": "hello"}, headers=headers)
            assert response.status_code == 502, response.text
        limited = http.post("/api/v1/agent/run", json={"message": "hello"}, headers=headers)
        assert limited.status_code == 429, limited.text


@pytest.fixture(scope="module")
def stack(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("prometheus-real")
    dbname = f"app_obs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.url(driver="postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    database_url = postgres_server.url(dbname)
    prestart = subprocess.run(
        [sys.executable, "-m", "app.prestart"],
        cwd=BACKEND_DIR,
        env=backend_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert prestart.returncode == 0, prestart.stdout + prestart.stderr

    port_a, port_b, port_prom = free_port(), free_port(), free_port()
    multiproc = workdir / "multiproc-a"
    multiproc.mkdir()
    uvicorn = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        "127.0.0.1",
        "--no-access-log",
    ]
    processes: list[Process] = []
    try:
        processes.append(
            start(
                "backend-a",
                [*uvicorn, "--port", str(port_a), "--workers", "2"],
                backend_env(
                    database_url,
                    PROMETHEUS_MULTIPROC_DIR=str(multiproc),
                    LLM_MODEL_PROVIDER="offline",
                ),
                workdir,
            )
        )
        processes.append(
            start(
                "backend-b",
                [*uvicorn, "--port", str(port_b)],
                backend_env(
                    database_url,
                    LLM_MODEL_PROVIDER="openai",
                    LLM_MODEL_NAME="gpt-4o-mini",
                    # A fallback on the same dead server: the failed runs try it too, and the
                    # fallback and breaker series exist for the dashboards and alerts.
                    LLM_FALLBACK_MODEL_NAME="gpt-4o-mini-fallback",
                    OPENAI_API_KEY="sk-test",
                    OPENAI_BASE_URL=f"http://127.0.0.1:{closed_port()}/v1",
                    LLM_MAX_RETRIES="0",
                    LLM_TIMEOUT_SECONDS="5",
                    RATE_LIMIT_ENABLED="true",
                    RATE_LIMIT_PER_MINUTE=str(FAILED_RUNS),
                ),
                workdir,
            )
        )
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in RULE_FILES],
            "scrape_configs": [
                {
                    "job_name": "backend",
                    "static_configs": [{"targets": [f"127.0.0.1:{port_a}", f"127.0.0.1:{port_b}"]}],
                }
            ],
        }
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))
        processes.append(
            start(
                "prometheus",
                [
                    PROMETHEUS,
                    f"--config.file={config_path}",
                    f"--storage.tsdb.path={workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port_prom}",
                    "--log.level=warn",
                ],
                dict(os.environ),
                workdir,
            )
        )
        stack = Stack(
            f"http://127.0.0.1:{port_a}",
            f"http://127.0.0.1:{port_b}",
            f"http://127.0.0.1:{port_prom}",
            processes,
        )
        for url in (stack.backend_a, stack.backend_b):
            wait_until(
                lambda url=url: (
                    httpx.get(f"{url}/api/v1/utils/health-check/", timeout=2).status_code == 200
                ),
                120,
                f"{url} health",
                processes,
            )
        wait_until(
            lambda: httpx.get(f"{stack.prometheus}/-/ready", timeout=2).status_code == 200,
            60,
            "prometheus ready",
            processes,
        )
        wait_until(
            lambda: len(stack.query('up{job="backend"} == 1')) == 2,
            60,
            "both targets up",
            processes,
        )
        time.sleep(2)  # samples before the traffic, so rates see it as an increase
        traffic(stack)
        wait_until(
            lambda: (
                stack.query('sum(agent_invocations_by_status_total{status="completed"})')
                and stack.scalar('sum(agent_invocations_by_status_total{status="completed"})')
                == SUCCESSFUL_RUNS
            ),
            30,
            "the runs to be scraped",
            processes,
        )
        time.sleep(3)  # a few more scrapes and rule evaluations after the traffic
        stack.at = time.time()
        yield stack
    except BaseException:
        print("\n".join(p.tail() for p in processes))
        raise
    finally:
        for process in reversed(processes):
            process.stop()


def test_run_counts_are_exact_across_workers_and_instances(stack: Stack) -> None:
    assert (
        stack.scalar('sum(agent_invocations_by_status_total{status="completed"})')
        == SUCCESSFUL_RUNS
    )
    assert stack.scalar('sum(agent_invocations_by_status_total{status="failed"})') == FAILED_RUNS
    assert stack.scalar("sum(agent_invocations_total)") == SUCCESSFUL_RUNS + FAILED_RUNS
    assert stack.scalar("sum(agent_active_executions)") == 0
    assert stack.scalar('sum(llm_errors_total{model="gpt-4o-mini"})') == FAILED_RUNS
    assert (
        stack.scalar('sum(tool_invocations_total{tool="lookup_user_by_email", status="error"})')
        == 1
    )
    assert stack.scalar("sum(rate_limit_rejections_total)") >= 1
    assert stack.scalar('sum(http_requests_total{route="/api/v1/items/{id}", status="404"})') == 1
    assert stack.scalar("count(app_info)") == 2  # one per backend instance, not per worker


@pytest.mark.parametrize("expression", dashboard_expressions(), ids=lambda e: e.source)
def test_dashboard_expression_returns_data(stack: Stack, expression: Any) -> None:
    result = stack.query(expression.promql)
    assert result, f"{expression.source}: no data for {expression.promql}"
    values = [float(series["value"][1]) for series in result]
    assert any(not math.isnan(v) for v in values), f"{expression.source}: only NaN {result}"


@pytest.mark.parametrize("expression", rule_expressions(), ids=lambda e: e.source)
def test_rule_expression_returns_data(stack: Stack, expression: Any) -> None:
    result = stack.query(expression.promql)
    assert result, f"{expression.source}: no data for {expression.promql}"
    assert all(not math.isnan(float(series["value"][1])) for series in result), result


def test_rules_are_loaded_and_evaluate_cleanly(stack: Stack) -> None:
    body = httpx.get(f"{stack.prometheus}/api/v1/rules", timeout=10).json()
    loaded = [rule for group in body["data"]["groups"] for rule in group["rules"]]
    assert len(loaded) == len(rule_expressions())
    assert all(rule["health"] == "ok" for rule in loaded), loaded
    assert all(rule["lastEvaluation"] != "0001-01-01T00:00:00Z" for rule in loaded)


def test_latency_quantiles_are_real_numbers(stack: Stack) -> None:
    p95 = stack.scalar(
        "histogram_quantile(0.95, sum by (le) (rate(agent_execution_duration_seconds_bucket[1m])))"
    )
    assert 0 < p95 < 60
    ttft = stack.query(
        "histogram_quantile(0.95, sum by (le, model)"
        " (rate(llm_time_to_first_token_seconds_bucket[1m])))"
    )
    assert any(
        s["metric"]["model"] == "offline-demo" and not math.isnan(float(s["value"][1]))
        for s in ttft
    )
