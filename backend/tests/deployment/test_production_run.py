"""scripts/serve-production.sh driven for real: APP_ENV=production, two uvicorn workers, a fresh
PostgreSQL database, a real redis-server, JSON logs. No Docker.

What can only be seen with several processes: `/metrics` adds up every worker's counters, and
a rate limit holds across workers (a per-process limit would let a second worker start afresh).
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from tests.deployment.support import SCRIPTS_DIR
from tests.support.postgres import PostgresServer, free_port
from tests.support.redis import start_redis

pytestmark = pytest.mark.timeout(300)

WORKERS = 2
RATE_LIMIT = 5
API = "/api/v1"
HEALTH_ROUTE = f"{API}/utils/health-check/"
RUN_ROUTE = f"{API}/agent/run"
STARTUP_TIMEOUT_S = 120


@dataclass
class Server:
    """The running production-like server."""

    process: subprocess.Popen[bytes]
    base_url: str
    metrics_dir: Path
    log_path: Path
    secrets: dict[str, str]
    superuser: tuple[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        """A client that opens a new connection per request, so either worker may answer."""
        return httpx.Client(
            base_url=self.base_url,
            timeout=30,
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"Connection": "close"},
        )

    def worker_pids(self) -> set[int]:
        """Pids that have multiprocess metric files: the workers (prestart ran without the dir)."""
        return {int(path.stem.rsplit("_", 1)[1]) for path in self.metrics_dir.glob("*.db")}

    def counter_of(self, pid: int, name: str, **labels: str) -> float:
        """One worker's own value of a counter, read from that worker's files alone."""
        with tempfile.TemporaryDirectory() as tmp:
            for path in self.metrics_dir.glob(f"*_{pid}.db"):
                shutil.copy(path, tmp)
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=tmp)
            return _sample_sum(registry.collect(), name, labels)

    def log_lines(self) -> list[str]:
        """Everything the server wrote to stdout and stderr so far."""
        return [line for line in self.log_path.read_text().splitlines() if line.strip()]


def _sample_sum(families: Any, name: str, labels: dict[str, str]) -> float:
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def _settled(read: Any, timeout_s: float = 5.0) -> Any:
    """A value once it stops changing: a worker counts a request just after answering it."""
    value, deadline = read(), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = read()
        if again == value:
            return value
        value = again
    return value


def _environment(tmp: Path, database_url: str, redis_url: str, port: int) -> dict[str, str]:
    """Only what production would set: nothing inherited from the test process's settings."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL") if key in os.environ}
    return base | {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "FIRST_SUPERUSER": "admin@example.com",
        "FIRST_SUPERUSER_PASSWORD": secrets.token_hex(16),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WEB_CONCURRENCY": str(WORKERS),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
        "DATA_DIR": str(tmp / "data"),
        "LLM_MODEL_PROVIDER": "offline",
        "LANGFUSE_ENABLED": "false",
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
        "RATE_LIMIT_WINDOW_SECONDS": "60",
        "AUTH_RATE_LIMIT_PER_MINUTE": "1000",
        "LOG_LEVEL": "INFO",
    }


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with server.client() as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                code = server.process.returncode
                pytest.fail(f"server exited {code}:\n{server.log_path.read_text()}")
            try:
                healthy = http.get(HEALTH_ROUTE).status_code == 200
                if healthy and len(server.worker_pids()) >= WORKERS:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    pytest.fail(f"server not ready in {STARTUP_TIMEOUT_S}s:\n{server.log_path.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(postgres_server: PostgresServer) -> Iterator[Server]:
    """serve-production.sh on a fresh database and a fresh redis-server."""
    tmp = Path(tempfile.mkdtemp(prefix="app-prod-run-"))
    dbname = f"prod_run_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.url(driver="postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    redis = start_redis()
    port = free_port()
    env = _environment(tmp, postgres_server.url(dbname, driver="postgresql"), redis.url, port)
    (tmp / "metrics").mkdir()
    # A stale file from an earlier run: the script must empty the directory before starting.
    (tmp / "metrics" / "counter_999999.db").write_bytes(b"stale")
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", str(SCRIPTS_DIR / "serve-production.sh")],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(
        process=process,
        base_url=f"http://127.0.0.1:{port}",
        metrics_dir=tmp / "metrics",
        log_path=log_path,
        secrets={k: env[k] for k in ("SECRET_KEY", "FIRST_SUPERUSER_PASSWORD")},
        superuser=(env["FIRST_SUPERUSER"], env["FIRST_SUPERUSER_PASSWORD"]),
    )
    try:
        _wait_until_ready(server)
        yield server
    finally:
        _stop(process)
        redis.close()
        with psycopg.connect(postgres_server.url(driver="postgresql"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def _login(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    form = {"username": email, "password": password}
    response = http.post(f"{API}/login/access-token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_stale_metric_files_were_removed_and_two_workers_run(server: Server) -> None:
    pids = server.worker_pids()
    assert 999999 not in pids
    assert len(pids) == WORKERS, pids


def test_health_reports_database_and_redis(server: Server) -> None:
    with server.client() as http:
        response = http.get(HEALTH_ROUTE)
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "mcp": "disabled"}


def test_production_refuses_default_secrets(tmp_path: Path) -> None:
    """The same script exits with a message naming the variable when a secret is a default."""
    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ} | {
        "APP_ENV": "production",
        "SECRET_KEY": "changethis",
        "FIRST_SUPERUSER_PASSWORD": secrets.token_hex(16),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "RUN_PRESTART": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "PORT": str(free_port()),
    }
    result = subprocess.run(
        ["bash", str(SCRIPTS_DIR / "serve-production.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "SECRET_KEY" in result.stderr


def test_superuser_logs_in_and_runs_the_agent(server: Server) -> None:
    with server.client() as http:
        headers = _login(http, *server.superuser)
        assert http.post(f"{API}/login/test-token", headers=headers).status_code == 200
        response = http.post(RUN_ROUTE, json={"message": "show my items"}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success", body
    assert body["response"] and body["run_id"] and body["thread_id"]


def test_metrics_aggregate_across_workers(server: Server) -> None:
    """Requests until both workers served some; every /metrics answer shows the total."""
    labels = {"method": "GET", "route": HEALTH_ROUTE, "status": "200"}
    name = "http_requests_total"
    pids = sorted(server.worker_pids())
    before = _settled(lambda: {pid: server.counter_of(pid, name, **labels) for pid in pids})
    sent = 0
    with server.client() as http:
        while sent < 400:
            assert http.get(HEALTH_ROUTE).status_code == 200
            sent += 1
            served = {pid: server.counter_of(pid, name, **labels) - before[pid] for pid in pids}
            if sent >= 10 and all(served.values()):
                break
        assert all(served.values()), f"one worker served all {sent} requests: {served}"
        total_before = sum(before.values())
        recorded = _settled(lambda: sum(server.counter_of(pid, name, **labels) for pid in pids))
        assert recorded == total_before + sent
        for _ in range(4):  # several scrapes, so each worker is likely to answer one
            scrape = http.get("/metrics")
            assert scrape.status_code == 200, scrape.text
            families = list(text_string_to_metric_families(scrape.text))
            assert _sample_sum(families, name, labels) == total_before + sent


def test_rate_limit_is_shared_across_workers(server: Server) -> None:
    """A fresh user gets exactly RATE_LIMIT runs a minute, whichever worker answers."""
    email, password = f"limit-{uuid.uuid4().hex[:8]}@example.com", secrets.token_hex(12)
    name, labels = "http_requests_total", {"method": "POST", "route": RUN_ROUTE}
    pids = sorted(server.worker_pids())
    with server.client() as http:
        admin = _login(http, *server.superuser)
        user = {"email": email, "password": password}
        created = http.post(f"{API}/users/", json=user, headers=admin)
        assert created.status_code == 200, created.text
        headers = _login(http, email, password)
        before = {pid: server.counter_of(pid, name, **labels) for pid in pids}
        statuses: list[int] = []
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and len(statuses) < 60:
            response = http.post(RUN_ROUTE, json={"message": "hello"}, headers=headers)
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.json()["detail"]
                assert int(response.headers["Retry-After"]) > 0
            served = {pid: server.counter_of(pid, name, **labels) - before[pid] for pid in pids}
            if len(statuses) > RATE_LIMIT + 2 and all(served.values()):
                break
    assert all(served.values()), f"one worker answered every request: {served}"
    assert statuses.count(200) == RATE_LIMIT, statuses
    assert statuses[:RATE_LIMIT] == [200] * RATE_LIMIT
    assert set(statuses[RATE_LIMIT:]) == {429}, statuses
    with server.client() as http:
        families = list(text_string_to_metric_families(http.get("/metrics").text))
    assert _sample_sum(families, "rate_limit_rejections_total", {}) >= statuses.count(429)


def test_logs_are_json_lines_without_secrets(server: Server) -> None:
    lines = server.log_lines()
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON log line: {line!r}")
    assert all(isinstance(r, dict) and r.get("event") and r.get("level") for r in records)
    events = [str(r["event"]) for r in records]
    assert any(e.startswith("prestart.done") for e in events)
    started = {e for e in events if e.startswith("Started server process")}
    assert len(started) == WORKERS, started
    text = "\n".join(lines)
    for name, value in server.secrets.items():
        assert value not in text, f"{name} appears in the logs"
