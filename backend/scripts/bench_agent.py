"""Benchmark the agent API on PostgreSQL with one uvicorn worker.

The model is served over HTTP by the zero-latency OpenAI-compatible test stub, so the real
client path (langchain-openai → httpx → stub) is measured. Everything runs on loopback and
every phase is bounded in count and time.

    cd backend && uv run python scripts/bench_agent.py [--sequential 200] [--concurrency 50]
        [--duration 20] [--streams 200] [--stream-latency-ms 2000]

Reports: sequential latency and server overhead p50/p99 (latency minus the stub's own time
answering the run's model calls), closed-loop runs/s with N clients plus server CPU ms per run,
and concurrent SSE streams with simulated model latency: time to first event p50/p99,
completions, errors and the server's peak RSS.
"""

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))

from tests.support.postgres import free_port, start_postgres  # noqa: E402

PASSWORD = "bench-admin-password-123"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


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


def start_stub(latency_ms: int) -> tuple[subprocess.Popen[bytes], str]:
    """The OpenAI-compatible stub in auto mode."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.openai_server",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
        ],
        cwd=BACKEND,
        stdout=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/v1/models")
    return proc, f"http://127.0.0.1:{port}/v1"


def start_app(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """One uvicorn worker, production settings."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=BACKEND,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/api/v1/utils/health-check/")
    return proc, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


async def login(base: str) -> dict[str, str]:
    """Bearer headers for the first superuser."""
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/api/v1/login/access-token",
            data={"username": "admin@example.com", "password": PASSWORD},
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def user_tokens(base: str, admin: dict[str, str], count: int) -> list[dict[str, str]]:
    """`count` normal users (one per concurrent client, as real traffic would be)."""
    tokens = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for i in range(count):
            email, password = f"bench{i}@example.com", "bench-password-123"
            await http.post(
                "/api/v1/users/", json={"email": email, "password": password}, headers=admin
            )
            response = await http.post(
                "/api/v1/login/access-token", data={"username": email, "password": password}
            )
            response.raise_for_status()
            tokens.append({"Authorization": f"Bearer {response.json()['access_token']}"})
    return tokens


async def sequential(
    base: str, stub_stats_url: str, headers: dict[str, str], count: int, message: str
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
            await http.post("/api/v1/agent/run", json={"message": message}, headers=headers)
        busy_before = (await http.get(stub_stats_url)).json()["busy_ms"]
        for _ in range(count):
            start = time.perf_counter()
            response = await http.post(
                "/api/v1/agent/run", json={"message": message}, headers=headers
            )
            latency = (time.perf_counter() - start) * 1000
            busy_after = (await http.get(stub_stats_url)).json()["busy_ms"]
            latencies.append(latency)
            model_ms.append(busy_after - busy_before)
            overheads.append(latency - (busy_after - busy_before))
            busy_before = busy_after
            errors += response.status_code != 200 or response.json().get("status") != "success"
    return {
        "message": message,
        "runs": count,
        "errors": errors,
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p99_ms": round(percentile(latencies, 99), 1),
        "model_time_p50_ms": round(percentile(model_ms, 50), 1),
        "overhead_p50_ms": round(percentile(overheads, 50), 1),
        "overhead_p99_ms": round(percentile(overheads, 99), 1),
    }


async def closed_loop(
    base: str, users: list[dict[str, str]], clients: int, duration: float, pid: int, message: str
) -> dict[str, Any]:
    """`clients` concurrent clients, each sending its next run when the last one returns."""
    done = errors = 0
    stop_at = time.monotonic() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        nonlocal done, errors
        while time.monotonic() < stop_at:
            try:
                response = await http.post(
                    "/api/v1/agent/run", json={"message": message}, headers=headers
                )
                ok = response.status_code == 200 and response.json().get("status") == "success"
            except httpx.HTTPError:
                ok = False
            done += ok
            errors += not ok

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        cpu_before, wall_before = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(client(http, users[i % len(users)]) for i in range(clients)))
        cpu_after, wall = cpu_seconds(pid), time.perf_counter() - wall_before
    return {
        "message": message,
        "clients": clients,
        "seconds": round(wall, 1),
        "runs": done,
        "errors": errors,
        "runs_per_second": round(done / wall, 1),
        "server_cpu_ms_per_run": round((cpu_after - cpu_before) * 1000 / max(done, 1), 2),
    }


async def streams(base: str, users: list[dict[str, str]], count: int, pid: int) -> dict[str, Any]:
    """`count` concurrent SSE streams; time to first event and completions."""
    first_event: list[float] = []
    completed = errors = 0
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)

    async def one(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        nonlocal completed, errors
        start = time.perf_counter()
        seen_first = False
        try:
            async with http.stream(
                "POST", "/api/v1/agent/run/stream", json={"message": "hello"}, headers=headers
            ) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        if not seen_first:
                            first_event.append((time.perf_counter() - start) * 1000)
                            seen_first = True
                        event = json.loads(line[5:])
                        if event["type"] == "run_completed" and event["status"] == "success":
                            completed += 1
                        elif event["type"] == "error":
                            errors += 1
        except httpx.HTTPError:
            errors += 1

    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        start = time.perf_counter()
        await asyncio.gather(*(one(http, users[i % len(users)]) for i in range(count)))
        wall = time.perf_counter() - start
    return {
        "streams": count,
        "completed": completed,
        "errors": errors,
        "seconds": round(wall, 1),
        "first_event_p50_ms": round(percentile(first_event, 50), 1) if first_event else None,
        "first_event_p99_ms": round(percentile(first_event, 99), 1) if first_event else None,
        "server_peak_rss_mb": round(peak_rss_mb(pid), 1),
    }


def main() -> None:
    """Run the phases and print a JSON report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--stream-latency-ms", type=int, default=2000)
    args = parser.parse_args()

    server = start_postgres()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        import psycopg

        with psycopg.connect(server.url(driver="postgresql"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        env = os.environ | {
            "APP_ENV": "production",
            "SECRET_KEY": "bench-" + "k" * 40,
            "DATABASE_URL": server.url("bench"),
            "FIRST_SUPERUSER_PASSWORD": PASSWORD,
            "LLM_MODEL_PROVIDER": "openai",
            "OPENAI_API_KEY": "bench",
            "LLM_MODEL_NAME": "stub-model",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_ENABLED": "false",
            "LANGFUSE_ENABLED": "false",
            "FRONTEND_DIST_DIR": "",
            "DB_POOL_SIZE": "20",
            "DB_MAX_OVERFLOW": "20",
            "CHECKPOINT_POOL_MAX_SIZE": "20",
        }
        subprocess.run(
            [sys.executable, "-m", "app.prestart"],
            cwd=BACKEND,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stub, stub_url = start_stub(0)
        procs.append(stub)
        app, base = start_app(env | {"OPENAI_BASE_URL": stub_url})
        procs.append(app)
        headers = asyncio.run(login(base))
        users = asyncio.run(user_tokens(base, headers, max(args.concurrency, args.streams)))
        report: dict[str, Any] = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
            "sequential": [
                asyncio.run(
                    sequential(
                        base, stub_url.removesuffix("/v1") + "/stats", headers, args.sequential, m
                    )
                )
                for m in ("hello", "show my items")
            ],
            "closed_loop": [
                asyncio.run(closed_loop(base, users, args.concurrency, args.duration, app.pid, m))
                for m in ("hello", "show my items")
            ],
        }
        stop(app)
        procs.remove(app)
        slow_stub, slow_url = start_stub(args.stream_latency_ms)
        procs.append(slow_stub)
        app, base = start_app(env | {"OPENAI_BASE_URL": slow_url})
        procs.append(app)
        report["streams"] = asyncio.run(streams(base, users, args.streams, app.pid))
        report["streams"]["simulated_model_latency_ms_per_call"] = args.stream_latency_ms
        print(json.dumps(report, indent=2))
    finally:
        for proc in procs:
            stop(proc)
        server.stop()


if __name__ == "__main__":
    main()
