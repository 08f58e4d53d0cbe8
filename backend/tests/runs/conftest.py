"""Fixtures for the run layer: a Redis of its own, API and worker processes on it."""

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.agents.conftest import agent_settings, fresh_client_factory  # noqa: F401
from tests.support.postgres import free_port
from tests.support.processes import (
    child_env,
    start_api,
    start_run_worker,
    stop,
    wait_healthy,
    wait_log_line,
)
from tests.support.redis import RedisServer, start_redis
from tests.utils import API

LEASE_SECONDS = 2
GRACE_SECONDS = "5"  # GRACEFUL_SHUTDOWN_SECONDS: a stopped worker's runs get this to finish


@pytest.fixture(scope="session")
def runs_redis() -> Iterator[RedisServer]:
    """A redis-server for the run-layer tests; it closes clients idle for 30 s, as a
    configured production Redis may, which the run layer's clients must survive."""
    server = start_redis()
    yield server
    server.close()


@dataclass
class Cluster:
    """Two API processes (no in-process worker) and one worker process, sharing Redis."""

    apis: list[str]
    env: dict[str, str]
    logs: Path
    worker: subprocess.Popen[bytes]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    restarts: int = 0

    def restart_worker(self, *, kill: bool) -> int:
        """SIGKILL (or SIGTERM) the worker and start a new one; wait until it is ready.
        Returns the old worker's exit code."""
        if kill:
            self.worker.kill()
        else:
            self.worker.terminate()
        code = self.worker.wait(timeout=20)
        self.restarts += 1
        log = self.logs / f"worker{self.restarts}.log"
        self.worker = start_run_worker(self.env, log)
        self.processes.append(self.worker)
        wait_log_line(self.worker, log, "worker.ready")
        return code

    def worker_log(self, restart: int) -> Path:
        """The log of the worker started at that restart (0: the first)."""
        return self.logs / f"worker{restart}.log"


@pytest.fixture(scope="module")
def cluster(runs_redis: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """API A, API B and a worker on one PostgreSQL and one Redis; a slow offline model."""
    env = child_env(
        REDIS_URL=runs_redis.url.replace("/0", "/2"),
        AGENT_INPROCESS_WORKER="false",
        AGENT_RUN_LEASE_SECONDS=str(LEASE_SECONDS),
        OFFLINE_MODEL_LATENCY_MS="700",
        OFFLINE_MODEL_TOKENS_PER_SECOND="40",
        AGENT_MAX_CONCURRENT_RUNS_PER_USER="3",
        GRACEFUL_SHUTDOWN_SECONDS=GRACE_SECONDS,
    )
    logs = tmp_path_factory.mktemp("cluster")
    ports = [free_port(), free_port()]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for n, port in enumerate(ports):
            processes.append(start_api(port, env, logs / f"api{n}.log"))
        worker = start_run_worker(env, logs / "worker0.log")
        processes.append(worker)
        for n, port in enumerate(ports):
            wait_healthy(processes[n], port, logs / f"api{n}.log")
        wait_log_line(worker, logs / "worker0.log", "worker.ready")
        cluster = Cluster(
            [f"http://127.0.0.1:{p}{API}" for p in ports], env, logs, worker, processes
        )
        yield cluster
    finally:
        stop(processes if "cluster" not in locals() else cluster.processes)
