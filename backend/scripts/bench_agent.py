"""Benchmark the agent API's run path on PostgreSQL: embedded worker, and Redis + a worker.

The model is served over HTTP by the OpenAI-compatible test stub, so the real client path
(langchain-openai → httpx → stub) is measured. Everything runs on loopback and every phase is
bounded in count and time.

    cd backend && uv run python scripts/bench_agent.py [--sequential 200] [--concurrency 50]
        [--duration 20] [--streams 1000] [--stream-latency-ms 2000] [--rejoin 50]
        [--phases embedded,split,streams,long-thread] [--long-runs 20] [--long-turns 200]

Phases (each on a fresh database, one uvicorn worker with APP_ENV=production):

- embedded: the API runs the agent itself (in-process taskiq worker, no Redis), zero-latency
  stub: sequential latency and server overhead p50/p99 (latency minus the stub's own time
  answering the run's model calls), closed-loop runs/s with N clients plus server CPU ms per
  run, and the rejoin cost (reconnect with Last-Event-ID → first replayed event).
- baseline: the same sequential and closed-loop "hello" clients against a bare FastAPI
  endpoint that calls the stub once through the OpenAI SDK (scripts/bench_baseline_app.py,
  same uvicorn options); with embedded in the same invocation, the agent's overhead, CPU per
  run and runs/s as multiples of it (`embedded_over_baseline`), which move less between
  machines and runs than absolute times.
- split: the same measurements with Redis configured, the API not executing runs
  (AGENT_INPROCESS_WORKER=false) and one `python -m app.worker` process; CPU per run is
  reported for the API, the worker and redis-server separately.
- protocol: `/api/v1/agent/run` against the Agent Protocol's `/runs/wait` on the embedded
  configuration, alternating in rounds: sequential overhead and closed-loop runs/s and CPU/run.
- long-thread: server CPU per run continuing a 200-turn thread against continuing a 1-turn
  thread (embedded configuration, zero-latency stub), in alternating rounds. The long thread is
  one real run plus 199 turns (every fourth with a tool call and a ~1 kB result) written
  through the checkpointer's public `aupdate_state` (200 API runs would measure the setup, not
  the thread), runs alternate long/short; its first runs fold the old turns into the summary
  (app/agents/context.py),
  and those are measured too (`--long-warmup 0`) or not (default: 2 warm-up runs).
- degraded: the primary model hangs (a stub that answers after an hour), the fallback (the
  zero-latency stub, `LLM_FALLBACK_MODELS`) is healthy, 2-s model timeout, no retries:
  closed-loop runs/s and p50/p99 with `--degraded-clients` clients, against the same with a
  healthy primary; a 5-s warm-up first (the breaker opens during it), then `--duration`.
- streaming: one client, "hello", server CPU per run streamed (`/agent/run/stream`) against not
  streamed (`/agent/run`) in alternating blocks of `--sequential` runs (`--rounds`), with the
  time to the first token and the events and bytes per streamed run (embedded configuration).
- scaling: the closed loop ("hello") on one uvicorn worker, then on two (embedded mode),
  and the ratio of their runs/s (CPU per run summed over uvicorn's worker processes).
- streams: N concurrent SSE streams on the split configuration with simulated model latency:
  time to first event p50/p99, completions, errors, wall time and the API's and worker's peak
  RSS.

Child processes get RLIMIT_NOFILE raised to the hard limit; their logs go to a temporary
directory whose path the report names (never deleted). Users are inserted straight into the
database and their tokens signed here, so setup costs the API no Argon2 time or memory.
"""

import argparse
import asyncio
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))

from tests.support.postgres import PostgresServer, free_port, start_postgres  # noqa: E402
from tests.support.redis import RedisServer, start_redis  # noqa: E402

PASSWORD = "bench-admin-password-123"
ACTIVE = ("pending", "running")
UVICORN = ["-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
UVICORN += ["--no-access-log", "--log-level", "warning"]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children (uvicorn's workers), from
    /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(cpu_seconds(int(child)) for child in children)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def load() -> str:
    """The 1/5/15-minute load averages."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def raise_nofile() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit (1,000 streams need more than 1,024 fds)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_http(url: str, timeout: float = 60) -> None:
    """Poll until `url` answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(url)


@dataclass
class Cluster:
    """The processes of one phase and where their logs go."""

    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> int:
        """Start `python args...` in the backend directory, output to logs/<name>.log."""
        log = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, *args],
            cwd=BACKEND,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_nofile,
        )
        return self.procs[name].pid

    def stub(self, name: str, latency_ms: int) -> str:
        """The OpenAI-compatible stub in auto mode; its base URL."""
        port = free_port()
        self.spawn(
            name,
            [
                "-m",
                "tests.fakes.openai_server",
                "--port",
                str(port),
                "--latency-ms",
                str(latency_ms),
            ],
        )
        wait_http(f"http://127.0.0.1:{port}/v1/models")
        return f"http://127.0.0.1:{port}/v1"

    def api(self, env: dict[str, str], timeout: float = 60, workers: int = 1) -> str:
        """uvicorn with `workers` worker processes; its base URL."""
        port = free_port()
        self.spawn("api", [*UVICORN, "--workers", str(workers), "--port", str(port)], env)
        wait_http(f"http://127.0.0.1:{port}/api/v1/utils/health-check/", timeout)
        return f"http://127.0.0.1:{port}"

    def baseline(self, env: dict[str, str]) -> str:
        """The bare one-model-call app (scripts/bench_baseline_app.py), served as the API is."""
        port = free_port()
        args = ["-m", "uvicorn", "--app-dir", "scripts", "bench_baseline_app:app", *UVICORN[3:]]
        self.spawn("baseline", [*args, "--port", str(port)], env)
        wait_http(f"http://127.0.0.1:{port}/api/v1/utils/health-check/")
        return f"http://127.0.0.1:{port}"

    def worker(self, env: dict[str, str]) -> None:
        """`python -m app.worker` (ready once a probe run succeeds)."""
        self.spawn("worker", ["-m", "app.worker"], env)

    def pid(self, name: str) -> int:
        """The pid of a started process."""
        return self.procs[name].pid

    def stop(self, name: str) -> None:
        """SIGINT, then wait (SIGKILL after 20 s)."""
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop_all(self) -> None:
        """Stop the API first, then the worker, then the stubs."""
        for name in sorted(self.procs, key=lambda n: (n != "api", n != "worker")):
            self.stop(name)


def new_database(server: PostgresServer, name: str, env: dict[str, str]) -> dict[str, str]:
    """A fresh, migrated database; the env that points at it."""
    import psycopg

    with psycopg.connect(server.url(driver="postgresql"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    env = env | {"DATABASE_URL": server.url(name)}
    subprocess.run(
        [sys.executable, "-m", "app.prestart"],
        cwd=BACKEND,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return env


def make_users(env: dict[str, str], count: int) -> list[dict[str, str]]:
    """`count` normal users inserted straight into the database (one shared password hash),
    with a session each and access tokens signed by the bench's SECRET_KEY: setting up 1,000
    users then costs no Argon2 time in the API (nor its ~64 MB per hash in the API's peak RSS)."""
    import psycopg

    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'user'"
            )
        ]
        copied = [c for c in columns if c not in ("id", "email", "is_superuser")]
        ids = [
            str(row[0])
            for row in conn.execute(
                f'INSERT INTO "user" (id, email, is_superuser, {", ".join(copied)}) '
                f"SELECT gen_random_uuid(), 'bench' || n || '@example.com', false, "
                f'{", ".join(copied)} FROM "user", generate_series(1, %s) AS n '
                "WHERE email = 'admin@example.com' RETURNING id",
                (count,),
            )
        ]
    return sessions_for(env, ids)


def sessions_for(env: dict[str, str], user_ids: list[str]) -> list[dict[str, str]]:
    """Bearer headers for sessions inserted straight into the database (no login), one
    statement for all users."""
    import jwt
    import psycopg

    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "INSERT INTO refresh_token (id, user_id, family_id, token_hash, created_at, expires_at)"
            " SELECT gen_random_uuid(), u, gen_random_uuid(), md5(random()::text) ||"
            " md5(random()::text), now(), now() + interval '1 day' FROM unnest(%s::uuid[]) AS u"
            " RETURNING user_id, family_id",
            (user_ids,),
        ).fetchall()
    sid = {str(user_id): str(family_id) for user_id, family_id in rows}
    expires = int(time.time()) + 24 * 3600
    return [
        {
            "Authorization": "Bearer "
            + jwt.encode({"exp": expires, "sub": u, "sid": sid[u]}, env["SECRET_KEY"])
        }
        for u in user_ids
    ]


def admin_token(env: dict[str, str]) -> dict[str, str]:
    """Bearer headers for the first superuser (signed here, no login)."""
    import psycopg

    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        row = conn.execute("""SELECT id FROM "user" WHERE email = 'admin@example.com'""").fetchone()
    assert row is not None
    return sessions_for(env, [str(row[0])])[0]


async def probe(base: str, headers: dict[str, str]) -> None:
    """Wait until a run succeeds end to end (the worker is consuming)."""
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while time.monotonic() < deadline:
            try:
                response = await http.post(
                    "/api/v1/agent/run", json={"message": "hello"}, headers=headers
                )
                if response.status_code == 200 and response.json().get("status") == "success":
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError("no run succeeded: is the worker consuming?")


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event."""

    id: str | None
    type: str | None
    data: dict[str, Any]


async def sse(response: httpx.Response) -> AsyncIterator[Event]:
    """The events of an SSE response (comments such as pings skipped)."""
    event_id: str | None = None
    event_type: str | None = None
    data: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield Event(event_id, event_type, json.loads("\n".join(data)))
            event_id, event_type, data = None, None, []
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("event:"):
            event_type = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


async def one_run(
    http: httpx.AsyncClient, headers: dict[str, str], message: str, api: str = "ours"
) -> bool:
    """One run on a new thread, waited for: `/api/v1/agent/run`, or the Agent Protocol's
    stateless `/runs/wait` (thread kept, like ours)."""
    if api == "ours":
        response = await http.post("/api/v1/agent/run", json={"message": message}, headers=headers)
        return response.status_code == 200 and response.json().get("status") == "success"
    body = {
        "assistant_id": "agent",
        "input": {"messages": [{"type": "human", "content": message}]},
        "on_completion": "keep",
    }
    response = await http.post("/agent-protocol/runs/wait", json=body, headers=headers)
    if response.status_code != 200:
        return False
    values = response.json()
    return "__error__" not in values and values["messages"][-1]["type"] == "ai"


async def sequential(
    base: str,
    stub_stats_url: str,
    headers: dict[str, str],
    count: int,
    message: str,
    api: str = "ours",
) -> dict[str, Any]:
    """One client, `count` runs one after another (after a short warm-up).

    Server overhead = latency minus model time, where model time is what the stub spent
    answering that run's model calls (read from its /stats between runs, outside the timing).
    """
    latencies: list[float] = []
    overheads: list[float] = []
    model_ms: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for _ in range(10):
            await one_run(http, headers, message, api)
        busy_before = (await http.get(stub_stats_url)).json()["busy_ms"]
        for _ in range(count):
            start = time.perf_counter()
            ok = await one_run(http, headers, message, api)
            latency = (time.perf_counter() - start) * 1000
            busy_after = (await http.get(stub_stats_url)).json()["busy_ms"]
            latencies.append(latency)
            model_ms.append(busy_after - busy_before)
            overheads.append(latency - (busy_after - busy_before))
            busy_before = busy_after
            errors += not ok
    return {
        "api": api,
        "message": message,
        "runs": count,
        "errors": errors,
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p99_ms": round(percentile(latencies, 99), 1),
        "model_time_p50_ms": round(percentile(model_ms, 50), 1),
        "overhead_p50_ms": round(percentile(overheads, 50), 1),
        "overhead_p99_ms": round(percentile(overheads, 99), 1),
    }


async def streamed_run(
    http: httpx.AsyncClient, headers: dict[str, str], message: str
) -> tuple[bool, float | None, int, int]:
    """One streamed run on a new thread: ok, ms to the first token, events and bytes."""
    started = time.perf_counter()
    first_token: float | None = None
    events = size = 0
    ok = False
    async with http.stream(
        "POST", "/api/v1/agent/run/stream", json={"message": message}, headers=headers
    ) as response:
        if response.status_code != 200:
            return False, None, 0, 0
        async for line in response.aiter_lines():
            size += len(line.encode()) + 1
            if not line.startswith("data:"):
                continue
            events += 1
            data = json.loads(line[5:])
            if data.get("type") == "token" and first_token is None:
                first_token = (time.perf_counter() - started) * 1000
            if data.get("type") == "run_completed":
                ok = data.get("status") == "success"
    return ok, first_token, events, size


async def streaming(
    base: str, headers: dict[str, str], pid: int, runs: int, rounds: int
) -> dict[str, Any]:
    """C=1 server CPU per run, streamed (`/agent/run/stream`) against not streamed
    (`/agent/run`), in alternating blocks of `runs`; time to first token, events and bytes."""
    result: dict[str, Any] = {"load_before": load(), "rounds": []}
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for _ in range(10):  # warm-up, both paths
            await one_run(http, headers, "hello")
            await streamed_run(http, headers, "hello")
        for _ in range(max(1, rounds)):
            entry: dict[str, Any] = {}
            before = cpu_seconds(pid)
            plain_ok = sum([await one_run(http, headers, "hello") for _ in range(runs)])
            entry["plain_cpu_ms_per_run"] = round((cpu_seconds(pid) - before) * 1000 / runs, 2)
            firsts: list[float] = []
            events = size = streamed_ok = 0
            before = cpu_seconds(pid)
            for _ in range(runs):
                ok, first, n, b = await streamed_run(http, headers, "hello")
                streamed_ok += ok
                events += n
                size += b
                if first is not None:
                    firsts.append(first)
            entry["streamed_cpu_ms_per_run"] = round((cpu_seconds(pid) - before) * 1000 / runs, 2)
            entry["streamed_minus_plain_ms"] = round(
                entry["streamed_cpu_ms_per_run"] - entry["plain_cpu_ms_per_run"], 2
            )
            entry["first_token_p50_ms"] = round(percentile(firsts, 50), 1) if firsts else None
            entry["first_token_p99_ms"] = round(percentile(firsts, 99), 1) if firsts else None
            entry["events_per_run"] = round(events / runs, 1)
            entry["bytes_per_run"] = round(size / runs)
            entry["errors"] = 2 * runs - plain_ok - streamed_ok
            result["rounds"].append(entry)
    result["load_after"] = load()
    return result


async def closed_loop(
    base: str,
    users: list[dict[str, str]],
    clients: int,
    duration: float,
    pids: dict[str, int],
    message: str,
    api: str = "ours",
) -> dict[str, Any]:
    """`clients` concurrent clients, each sending its next run when the last one returns."""
    done = errors = 0
    stop_at = time.monotonic() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    latencies: list[float] = []

    async def client(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        nonlocal done, errors
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                ok = await one_run(http, headers, message, api)
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            done += ok
            errors += not ok

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        wall_before = time.perf_counter()
        await asyncio.gather(*(client(http, users[i % len(users)]) for i in range(clients)))
        wall = time.perf_counter() - wall_before
        cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    return {
        "api": api,
        "message": message,
        "clients": clients,
        "seconds": round(wall, 1),
        "runs": done,
        "errors": errors,
        "runs_per_second": round(done / wall, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1000) if latencies else None,
        "cpu_ms_per_run": {
            name: round((cpu_after[name] - cpu_before[name]) * 1000 / max(done, 1), 2)
            for name in pids
        },
    }


async def streams(
    base: str, users: list[dict[str, str]], count: int, pids: dict[str, int]
) -> dict[str, Any]:
    """`count` concurrent SSE streams, all started at once; time to first event, completions."""
    first_event: list[float] = []
    completed = 0
    failures: dict[str, int] = {}
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    timeout = httpx.Timeout(300, connect=60, pool=120)

    def failed(reason: str) -> None:
        failures[reason] = failures.get(reason, 0) + 1

    async def one(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        nonlocal completed
        start = time.perf_counter()
        ended = first_seen = False
        try:
            async with http.stream(
                "POST", "/api/v1/agent/run/stream", json={"message": "hello"}, headers=headers
            ) as response:
                if response.status_code != 200:
                    failed(f"HTTP {response.status_code}: {(await response.aread())[:200]!r}")
                    return
                async for event in sse(response):
                    if not first_seen:
                        first_event.append((time.perf_counter() - start) * 1000)
                        first_seen = True
                    if event.type == "run_completed":
                        ended = True
                        if event.data.get("status") == "success":
                            completed += 1
                        else:
                            failed(f"run_completed {event.data.get('status')}")
                    elif event.type == "error":
                        ended = True
                        failed(f"error {event.data.get('code')}: {event.data.get('message')}")
            if not ended:
                failed("stream ended without a last event")
        except httpx.HTTPError as exc:
            failed(f"{type(exc).__name__}: {exc}"[:200])

    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as http:
        start = time.perf_counter()
        await asyncio.gather(*(one(http, users[i % len(users)]) for i in range(count)))
        wall = time.perf_counter() - start
    return {
        "streams": count,
        "completed": completed,
        "errors": sum(failures.values()),
        "failures": failures,
        "seconds": round(wall, 1),
        "first_event_p50_ms": round(percentile(first_event, 50), 1) if first_event else None,
        "first_event_p99_ms": round(percentile(first_event, 99), 1) if first_event else None,
        "peak_rss_mb": {name: peak_rss_mb(pid) for name, pid in pids.items()},
    }


async def rejoin(
    base: str, users: list[dict[str, str]], count: int, read_first: int = 2
) -> dict[str, Any]:
    """Rejoin cost: `count` runs started with on_disconnect=continue, left after `read_first`
    events, then rejoined with Last-Event-ID once each run has ended (its remaining events are
    in the log): time from sending the reconnect to the first replayed event. Measured one at
    a time, then all `count` at once; every replay is checked (later ids only, no duplicates,
    ends with a successful run_completed)."""
    left: list[tuple[dict[str, str], str, str]] = []  # headers, run id, last event id
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    problems: dict[str, int] = {}

    def problem(reason: str) -> None:
        problems[reason] = problems.get(reason, 0) + 1

    async def start(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        run_id = last_id = None
        seen = 0
        async with http.stream(
            "POST",
            "/api/v1/agent/run/stream",
            json={"message": "hello", "on_disconnect": "continue"},
            headers=headers,
        ) as response:
            async for event in sse(response):
                run_id = run_id or event.data.get("run_id")
                last_id = event.id
                seen += 1
                if seen >= read_first:
                    break  # leaving the block drops the connection
        if run_id and last_id:
            left.append((headers, str(run_id), last_id))
        else:
            problem("start: no run id or event id")

    async def ended(http: httpx.AsyncClient, headers: dict[str, str], run_id: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            response = await http.get(f"/api/v1/agent/runs/{run_id}", headers=headers)
            if response.status_code == 200 and response.json()["status"] not in ACTIVE:
                if response.json()["status"] != "success":
                    problem(f"run ended {response.json()['status']}")
                return
            await asyncio.sleep(0.1)
        problem("run still active after 60 s")

    async def join(
        http: httpx.AsyncClient, headers: dict[str, str], run_id: str, last_id: str
    ) -> float | None:
        first: float | None = None
        ids: list[str] = []
        complete = False
        start = time.perf_counter()
        async with http.stream(
            "GET",
            f"/api/v1/agent/runs/{run_id}/stream",
            headers=headers | {"Last-Event-ID": last_id},
        ) as response:
            if response.status_code != 200:
                problem(f"join HTTP {response.status_code}")
                return None
            async for event in sse(response):
                if first is None:
                    first = (time.perf_counter() - start) * 1000
                ids.append(event.id or "")
                complete = event.type == "run_completed" and event.data["status"] == "success"
        if last_id in ids or len(set(ids)) != len(ids) or not complete:
            problem("replay: repeated ids, the last seen id again, or no successful end")
        return first

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        await asyncio.gather(*(start(http, users[i % len(users)]) for i in range(count)))
        await asyncio.gather(*(ended(http, h, run_id) for h, run_id, _ in left))
        one_by_one = [await join(http, *entry) for entry in left]
        at_once = await asyncio.gather(*(join(http, *entry) for entry in left))
    one = [ms for ms in one_by_one if ms is not None]
    many = [ms for ms in at_once if ms is not None]
    return {
        "runs": count,
        "left_after_events": read_first,
        "problems": problems,
        "one_at_a_time_p50_ms": round(percentile(one, 50), 1) if one else None,
        "one_at_a_time_p99_ms": round(percentile(one, 99), 1) if one else None,
        f"{count}_at_once_p50_ms": round(percentile(many, 50), 1) if many else None,
        f"{count}_at_once_p99_ms": round(percentile(many, 99), 1) if many else None,
    }


async def seed_thread(thread_id: str, turns: int) -> None:
    """Append `turns` turns to a thread through the checkpointer's public API (run in a child
    process whose environment points at the phase's database)."""
    from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

    from app.agents.checkpointer import open_checkpointer
    from app.agents.graph import build_graph
    from app.core.config import settings

    filler = "Some words the user and the assistant said about their project. "
    messages: list[AnyMessage] = []
    for turn in range(turns):
        messages.append(HumanMessage(f"Turn {turn}: " + filler * 3, id=f"seed-{turn}-h"))
        if turn % 4 == 0:
            call = {"name": "lookup_user_items", "args": {}, "id": f"seed-call-{turn}"}
            messages.append(AIMessage("", tool_calls=[call], id=f"seed-{turn}-c"))
            items = [{"title": f"Item {n}", "description": filler} for n in range(12)]
            result = json.dumps({"count": 12, "items": items})
            messages.append(
                ToolMessage(result, tool_call_id=call["id"], name=call["name"], id=f"seed-{turn}-t")
            )
        messages.append(AIMessage(f"Answer {turn}: " + filler * 5, id=f"seed-{turn}-a"))
    async with open_checkpointer(settings) as saver:
        graph = build_graph(saver)
        config = {"configurable": {"thread_id": thread_id}}
        await graph.aupdate_state(config, {"messages": messages}, as_node="executor")  # type: ignore[arg-type]


async def long_thread(
    base: str, env: dict[str, str], pid: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Server CPU per run: continuing a `--long-turns` thread vs continuing a 1-turn thread."""
    admin = admin_token(env)
    await probe(base, admin)

    async def run(http: httpx.AsyncClient, thread_id: str | None) -> str:
        body = {"message": "hello"} | ({"thread_id": thread_id} if thread_id else {})
        response = await http.post("/api/v1/agent/run", json=body, headers=admin)
        assert response.status_code == 200 and response.json()["status"] == "success", response.text
        return str(response.json()["thread_id"])

    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        long_id = await run(http, None)
        started = time.perf_counter()
        await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                __file__,
                "--seed-thread",
                long_id,
                "--seed-turns",
                str(args.long_turns - 1),
            ],
            cwd=BACKEND,
            env=env,
            check=True,
        )
        seeded_s = time.perf_counter() - started
        for _ in range(args.long_warmup):
            await run(http, long_id)
        result: dict[str, Any] = {"load_before": load(), "seed_seconds": round(seeded_s, 2)}
        rounds: list[dict[str, float]] = []
        for _ in range(args.long_rounds):
            short_ids = [await run(http, None) for _ in range(args.long_runs)]
            # Interleaved, one long run then one short run, so both see the same contention;
            # each run's CPU is the server's /proc delta around it (10 ms ticks, summed).
            cpu = {"long": 0.0, "short": 0.0}
            wall = {"long": 0.0, "short": 0.0}
            for short_id in short_ids:
                for name, thread_id in (("long", long_id), ("short", short_id)):
                    before, start = cpu_seconds(pid), time.perf_counter()
                    await run(http, thread_id)
                    cpu[name] += cpu_seconds(pid) - before
                    wall[name] += time.perf_counter() - start
            figures: dict[str, float] = {}
            for name in ("long", "short"):
                figures[f"{name}_cpu_ms_per_run"] = round(cpu[name] * 1000 / len(short_ids), 1)
                figures[f"{name}_wall_ms_per_run"] = round(wall[name] * 1000 / len(short_ids), 1)
            figures["ratio"] = round(
                figures["long_cpu_ms_per_run"] / figures["short_cpu_ms_per_run"], 2
            )
            rounds.append(figures)
        state = (await http.get(f"/agent-protocol/threads/{long_id}/state", headers=admin)).json()
        messages = state["values"].get("messages", [])
        summary = state["values"].get("context_summary") or {}
    result |= {
        "rounds": rounds,
        "long_thread_messages_at_end": len(messages),
        "long_thread_turns_at_end": sum(1 for m in messages if m.get("type") == "human"),
        "summary_covers_messages": summary.get("folded"),
        "load_after": load(),
    }
    return result


def redis_calls(url: str, *, reset: bool = False) -> dict[str, int]:
    """Redis's command counts (INFO commandstats) since the last reset."""
    from redis import Redis

    with Redis.from_url(url) as client:
        if reset:
            client.config_resetstat()
            return {}
        stats = client.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in sorted(stats.items(), key=lambda item: -int(item[1]["calls"]))
    }


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next(
        (line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line),
        "?",
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=BACKEND, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": f"{platform.machine()}, {os.cpu_count()} cores, {model}",
        "memory_gib": f"{mem_kb / 1024 / 1024:.1f}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "commit": commit,
    }


async def compare_protocol(
    base: str, env: dict[str, str], pids: dict[str, int], stats_url: str, args: argparse.Namespace
) -> dict[str, Any]:
    """`/api/v1/agent/run` against the Agent Protocol's `/runs/wait`, alternating in rounds on
    one server so drift and noise hit both alike; "hello" (no tool) and "show my items"."""
    admin = admin_token(env)
    users = make_users(env, args.users)
    await probe(base, admin)
    result: dict[str, Any] = {"load_before": load(), "rounds": []}
    for _ in range(args.rounds):
        for api in ("ours", "protocol"):
            result["rounds"].append(
                {
                    "sequential": [
                        await sequential(base, stats_url, admin, args.sequential, m, api)
                        for m in ("hello", "show my items")
                    ],
                    "closed_loop": await closed_loop(
                        base, users, args.concurrency, args.duration, pids, "hello", api
                    ),
                }
            )
    result["load_after"] = load()
    return result


async def warm_then_steady(
    base: str,
    admin: dict[str, str],
    users: list[dict[str, str]],
    clients: int,
    duration: float,
    pids: dict[str, int],
) -> dict[str, Any]:
    """One probe run, a 5-s closed-loop warm-up, then the measured closed loop."""
    await probe(base, admin)
    warm = await closed_loop(base, users, clients, 5.0, pids, "hello")
    steady = await closed_loop(base, users, clients, duration, pids, "hello")
    return {"warm_up_5s": warm, "steady": steady}


def degraded_phase(
    cluster: Cluster,
    server: PostgresServer,
    base_env: dict[str, str],
    fast: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The primary hangs, the fallback is healthy: C clients for the duration, against the
    same C on a healthy primary. A short warm-up first lets the breaker open; the steady
    figures are with it open (the primary then gets no calls)."""
    hanging = cluster.stub("hanging-stub", 3_600_000)  # answers after an hour
    chain = {
        "LLM_TIMEOUT_SECONDS": "2",
        "LLM_MAX_RETRIES": "0",
        "LLM_BREAKER_COOLDOWN_SECONDS": "600",
    }
    fallback = json.dumps([{"provider": "openai", "model": "stub-fallback", "base_url": fast}])
    clients = args.degraded_clients
    result: dict[str, Any] = {"clients": clients, "load_before": load()}
    for name, primary in (("healthy", fast), ("degraded", hanging)):
        env = new_database(server, f"bench_{name}", base_env) | chain
        env |= {"OPENAI_BASE_URL": primary, "LLM_FALLBACK_MODELS": fallback}
        base = cluster.api(env)
        users = make_users(env, clients)

        pids = {"api": cluster.pid("api")}
        result[name] = asyncio.run(
            warm_then_steady(base, admin_token(env), users, clients, args.duration, pids)
        )
        cluster.stop("api")
    healthy, degraded = result["healthy"]["steady"], result["degraded"]["steady"]
    result["degraded_vs_healthy"] = {
        "runs_per_second": round(degraded["runs_per_second"] / healthy["runs_per_second"], 2),
        "p99": round(degraded["p99_ms"] / healthy["p99_ms"], 2),
    }
    result["load_after"] = load()
    cluster.stop("hanging-stub")
    return result


async def measure_baseline(
    base: str, stats_url: str, pid: int, args: argparse.Namespace
) -> dict[str, Any]:
    """The bare app's sequential overhead and closed loop ("hello", no auth)."""
    users: list[dict[str, str]] = [{}]
    result = {
        "load_before": load(),
        "sequential": await sequential(base, stats_url, {}, args.sequential, "hello"),
        "closed_loop": await closed_loop(
            base, users, args.concurrency, args.duration, {"api": pid}, "hello"
        ),
        "load_after": load(),
    }
    for measured in ("sequential", "closed_loop"):
        result[measured]["api"] = "bare"  # same request, served by the bare app
    return result


def over_baseline(embedded: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """The agent's "hello" figures as multiples of the bare call's (2 model calls against 1)."""
    ours_seq = next(s for s in embedded["sequential"] if s["message"] == "hello")
    ours_loop = next(c for c in embedded["closed_loop"] if c["message"] == "hello")
    bare_seq, bare_loop = baseline["sequential"], baseline["closed_loop"]
    return {
        "overhead_p50": round(ours_seq["overhead_p50_ms"] / bare_seq["overhead_p50_ms"], 2),
        "cpu_per_run": round(
            ours_loop["cpu_ms_per_run"]["api"] / bare_loop["cpu_ms_per_run"]["api"], 2
        ),
        "runs_per_second": round(ours_loop["runs_per_second"] / bare_loop["runs_per_second"], 2),
    }


def base_environment(db_pool: int = 20) -> dict[str, str]:
    """The API's environment in every phase (production mode, no Redis unless a phase adds it)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")} | {
        "APP_ENV": "production",
        "SECRET_KEY": "bench-" + "k" * 40,
        "FIRST_SUPERUSER_PASSWORD": PASSWORD,
        "LLM_MODEL_PROVIDER": "openai",
        "OPENAI_API_KEY": "bench",
        "LLM_MODEL_NAME": "stub-model",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ENABLED": "false",
        "LANGFUSE_ENABLED": "false",
        "FRONTEND_DIST_DIR": "",
        "DB_POOL_SIZE": str(db_pool),
        "DB_MAX_OVERFLOW": str(db_pool),
        "CHECKPOINT_POOL_MAX_SIZE": "20",
        "AGENT_MAX_CONCURRENT_RUNS_PER_USER": "0",
    }


def main() -> None:
    """Run the phases and print a JSON report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--stream-latency-ms", type=int, default=2000)
    parser.add_argument("--rejoin", type=int, default=50)
    parser.add_argument("--users", type=int, default=50, help="users of the closed loop")
    parser.add_argument("--stream-users", type=int, default=0, help="default: one per stream")
    parser.add_argument("--db-pool", type=int, default=20, help="DB_POOL_SIZE = DB_MAX_OVERFLOW")
    parser.add_argument(
        "--phases",
        default="embedded,split,streams",
        help="any of embedded,baseline,scaling,protocol,split,streams,degraded,streaming,"
        "long-thread",
    )
    parser.add_argument(
        "--degraded-clients", type=int, default=20, help="degraded phase: concurrent clients"
    )
    parser.add_argument("--rounds", type=int, default=2, help="protocol phase: A/B rounds")
    parser.add_argument("--long-turns", type=int, default=200, help="long-thread: its turns")
    parser.add_argument("--long-runs", type=int, default=20, help="long-thread: runs per side")
    parser.add_argument("--long-rounds", type=int, default=2, help="long-thread: A/B rounds")
    parser.add_argument("--long-warmup", type=int, default=2, help="long-thread: unmeasured")
    parser.add_argument("--seed-thread", help=argparse.SUPPRESS)
    parser.add_argument("--seed-turns", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_thread:
        asyncio.run(seed_thread(args.seed_thread, args.seed_turns))
        return
    phases = set(args.phases.split(","))
    raise_nofile()  # the client holds one connection per stream

    logs = Path(tempfile.mkdtemp(prefix="bench-agent-"))
    server = start_postgres()
    redis: RedisServer | None = None
    report: dict[str, Any] = {"machine": machine(), "logs": str(logs)}
    base_env = base_environment(args.db_pool)
    cluster = Cluster(logs)
    try:
        fast = cluster.stub("stub", 0)
        stats_url = fast.removesuffix("/v1") + "/stats"
        if phases & {"split", "streams"}:
            redis = start_redis(idle_timeout=0)

        async def measure(base: str, env: dict[str, str], pids: dict[str, int]) -> dict[str, Any]:
            admin = admin_token(env)
            users = make_users(env, args.users)
            await probe(base, admin)
            result: dict[str, Any] = {"load_before": load()}
            result["sequential"] = [
                await sequential(base, stats_url, admin, args.sequential, m)
                for m in ("hello", "show my items")
            ]
            result["closed_loop"] = [
                await closed_loop(base, users, args.concurrency, args.duration, pids, m)
                for m in ("hello", "show my items")
            ]
            if args.rejoin:
                result["rejoin"] = await rejoin(base, users, args.rejoin)
            result["load_after"] = load()
            return result

        if "embedded" in phases:
            env = new_database(server, "bench_embedded", base_env) | {"OPENAI_BASE_URL": fast}
            base = cluster.api(env)
            report["embedded"] = asyncio.run(measure(base, env, {"api": cluster.pid("api")}))
            cluster.stop("api")

        if "baseline" in phases:
            # Right after the agent's figures, the same clients against one bare model call.
            base = cluster.baseline(base_env | {"OPENAI_BASE_URL": fast})
            report["baseline"] = asyncio.run(
                measure_baseline(base, stats_url, cluster.pid("baseline"), args)
            )
            cluster.stop("baseline")
            if "embedded" in report:
                report["embedded_over_baseline"] = over_baseline(
                    report["embedded"], report["baseline"]
                )

        if "scaling" in phases:
            # The same closed loop on one uvicorn worker, then on two (embedded mode: each
            # worker executes the runs it accepts); runs/s of two over one is the scaling.
            env = new_database(server, "bench_scaling", base_env) | {"OPENAI_BASE_URL": fast}
            users = make_users(env, args.users)
            scaling: dict[str, Any] = {"load_before": load()}
            for workers in (1, 2):
                base = cluster.api(env, timeout=300, workers=workers)
                asyncio.run(probe(base, admin_token(env)))
                scaling[f"workers_{workers}"] = asyncio.run(
                    closed_loop(
                        base,
                        users,
                        args.concurrency,
                        args.duration,
                        {"api": cluster.pid("api")},
                        "hello",
                    )
                )
                cluster.stop("api")
            one, two = (scaling[f"workers_{n}"]["runs_per_second"] for n in (1, 2))
            scaling["two_over_one"] = round(two / one, 2) if one else None
            scaling["load_after"] = load()
            report["scaling"] = scaling

        if "streaming" in phases:
            env = new_database(server, "bench_streaming", base_env) | {"OPENAI_BASE_URL": fast}
            base = cluster.api(env)
            admin = admin_token(env)
            asyncio.run(probe(base, admin))
            report["streaming"] = asyncio.run(
                streaming(base, admin, cluster.pid("api"), args.sequential, args.rounds)
            )
            cluster.stop("api")

        if "protocol" in phases:
            env = new_database(server, "bench_protocol", base_env) | {"OPENAI_BASE_URL": fast}
            base = cluster.api(env)
            report["protocol"] = asyncio.run(
                compare_protocol(base, env, {"api": cluster.pid("api")}, stats_url, args)
            )
            cluster.stop("api")

        if "long-thread" in phases:
            env = new_database(server, "bench_long", base_env) | {"OPENAI_BASE_URL": fast}
            base = cluster.api(env, timeout=300)
            report["long_thread"] = asyncio.run(long_thread(base, env, cluster.pid("api"), args))
            cluster.stop("api")

        if "split" in phases and redis is not None:
            env = new_database(server, "bench_split", base_env) | {
                "REDIS_URL": redis.url,
                "OPENAI_BASE_URL": fast,
            }
            cluster.worker(env)
            base = cluster.api(env | {"AGENT_INPROCESS_WORKER": "false"})
            pids = {"api": cluster.pid("api"), "worker": cluster.pid("worker")}
            if redis.executor.process is not None:
                pids["redis"] = redis.executor.process.pid
            report["split"] = asyncio.run(measure(base, env, pids))
            cluster.stop("api")
            cluster.stop("worker")

        if "streams" in phases and redis is not None:
            slow = cluster.stub("slow-stub", args.stream_latency_ms)
            env = new_database(server, "bench_streams", base_env) | {
                "REDIS_URL": redis.url,
                "OPENAI_BASE_URL": slow,
                "AGENT_WORKER_CONCURRENCY": str(max(args.streams, 200)),
            }
            cluster.worker(env)
            base = cluster.api(env | {"AGENT_INPROCESS_WORKER": "false"})
            pids = {"api": cluster.pid("api"), "worker": cluster.pid("worker")}
            users = make_users(env, args.stream_users or args.streams)

            async def stream_phase() -> dict[str, Any]:
                await probe(base, admin_token(env))
                before = load()
                result = await streams(base, users, args.streams, pids)
                return result | {"load_before": before, "load_after": load()}

            redis_calls(redis.url, reset=True)
            report["streams"] = asyncio.run(stream_phase())
            report["streams"]["redis_calls"] = redis_calls(redis.url)
            report["streams"]["simulated_model_latency_ms_per_call"] = args.stream_latency_ms
            report["streams"]["users"] = len(users)
        if "degraded" in phases:
            report["degraded"] = degraded_phase(cluster, server, base_env, fast, args)
        print(json.dumps(report, indent=2))
    finally:
        cluster.stop_all()
        if redis is not None:
            redis.close()
        server.stop()


if __name__ == "__main__":
    main()
