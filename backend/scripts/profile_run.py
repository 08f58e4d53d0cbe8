"""Profile the run path in-process: Python calls and SQL statements per "hello" run, and where
the time goes, by package and by function (cProfile).

Counts (calls, statements) don't depend on how busy the machine is, so they compare branches
fairly on a shared machine; the time shares are cProfile's (its overhead inflates call-heavy
code) and are for ranking, not absolute figures.

    cd backend && uv run python scripts/profile_run.py [--runs 200] [--concurrency 10]
        [--message hello] [--top 25]

PostgreSQL is a throwaway server (tests/support), the model the OpenAI-compatible stub over
HTTP (zero latency), the app driven through httpx's ASGI transport (so uvicorn's HTTP parsing
is not in the profile), with the embedded worker (no Redis), budgets at their defaults.
"""

import argparse
import asyncio
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))

from tests.support.postgres import free_port, start_postgres  # noqa: E402

PACKAGES = (
    "app",
    "sqlalchemy",
    "sqlmodel",
    "psycopg",
    "psycopg_pool",
    "langgraph",
    "langchain_core",
    "langchain_openai",
    "openai",
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "starlette",
    "fastapi",
    "pydantic",
    "pydantic_core",
    "taskiq",
    "structlog",
    "prometheus_client",
    "asyncio",
    "json",
)


def package_of(filename: str) -> str:
    """The package a profiled function's file belongs to."""
    parts = Path(filename).parts
    if "site-packages" in parts:
        name = parts[parts.index("site-packages") + 1]
        return name if name in PACKAGES else "other libraries"
    if "app" in parts and str(BACKEND) in filename:
        return "app"
    for name in ("asyncio", "json"):
        if name in parts:
            return name
    return "stdlib/builtins"


def main() -> None:
    """Set up, profile, print the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--message", default="hello")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--stream", action="store_true", help="POST /agent/run/stream instead")
    parser.add_argument("--dump", help="also write the raw profile here (for pstats/snakeviz)")
    args = parser.parse_args()

    server = start_postgres()
    stub_port = free_port()
    stub = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--port", str(stub_port)],
        cwd=BACKEND,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import psycopg

        with psycopg.connect(server.url(driver="postgresql"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE profile")
        os.environ |= {
            "DATABASE_URL": server.url("profile"),
            "APP_ENV": "local",
            "SECRET_KEY": "profile-" + "k" * 40,
            "FIRST_SUPERUSER_PASSWORD": "profile-admin-password",
            "LLM_MODEL_PROVIDER": "openai",
            "OPENAI_API_KEY": "profile",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{stub_port}/v1",
            "LLM_MODEL_NAME": "stub-model",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_ENABLED": "false",
            "LANGFUSE_ENABLED": "false",
            "FRONTEND_DIST_DIR": "",
            "DATA_DIR": tempfile.mkdtemp(prefix="profile-run-"),
        }
        for key in [k for k in os.environ if k.startswith("REDIS_")]:
            del os.environ[key]
        subprocess.run([sys.executable, "-m", "app.prestart"], cwd=BACKEND, check=True)
        print(asyncio.run(profile(args)))
    finally:
        stub.terminate()
        stub.wait()
        server.stop()


async def profile(args: argparse.Namespace) -> str:
    """Warm up, then profile `args.runs` runs at `args.concurrency`; the report as text."""
    import httpx
    from sqlalchemy import event

    from app.core.db import engine
    from app.main import app

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://profile", timeout=60
        ) as http,
    ):

        async def token(username: str, password: str) -> dict[str, str]:
            form = {"username": username, "password": password}
            login = await http.post("/api/v1/login/access-token", data=form)
            return {"Authorization": f"Bearer {login.json()['access_token']}"}

        admin = await token("admin@example.com", "profile-admin-password")
        users = []  # one user per concurrent client: the per-user cap of concurrent runs holds
        for index in range(args.concurrency):
            email, password = f"profile{index}@example.com", "profile-user-password"
            body = {"email": email, "password": password}
            await http.post("/api/v1/users/", json=body, headers=admin)
            users.append(await token(email, password))

        events = sent = 0

        async def runs(count: int) -> int:
            nonlocal events, sent
            failed = 0

            async def one(headers: dict[str, str]) -> None:
                nonlocal failed, events, sent
                body = {"message": args.message}
                if not args.stream:
                    response = await http.post("/api/v1/agent/run", json=body, headers=headers)
                    failed += response.status_code != 200 or response.json()["status"] != "success"
                    return
                url = "/api/v1/agent/run/stream"
                async with http.stream("POST", url, json=body, headers=headers) as response:
                    raw = await response.aread()
                sent += len(raw)
                events += raw.count(b"\nevent: ") + raw.startswith(b"event: ")
                failed += b'"status":"success"' not in raw

            for start in range(0, count, args.concurrency):
                batch = users[: min(args.concurrency, count - start)]
                await asyncio.gather(*(one(headers) for headers in batch))
            return failed

        await runs(20)
        events = sent = 0
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        profiler = cProfile.Profile()
        profiler.enable()
        failed = await runs(args.runs)
        profiler.disable()
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    if args.dump:
        profiler.dump_stats(args.dump)
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total_calls = sum(calls for (_cc, calls, _tt, _ct, _callers) in raw.values())
    total_time = sum(tt for (_cc, _nc, tt, _ct, _callers) in raw.values())
    by_package: dict[str, float] = defaultdict(float)
    calls_by_package: dict[str, int] = defaultdict(int)
    for (filename, _line, _name), (_cc, calls, tt, _ct, _callers) in raw.items():
        by_package[package_of(filename)] += tt
        calls_by_package[package_of(filename)] += calls
    lines = [
        f"runs: {args.runs} ({failed} failed), concurrency {args.concurrency}, "
        f"message {args.message!r}, {'streamed' if args.stream else 'not streamed'}",
        f"SSE events per run: {events / args.runs:.1f}, bytes per run: {sent / args.runs:,.0f}",
        f"SQL statements per run (app engine): {len(statements) / args.runs:.2f}",
        f"Python function calls per run: {total_calls / args.runs:,.0f}",
        f"profiled time per run: {total_time * 1000 / args.runs:.2f} ms (cProfile, inflated)",
        "",
        "own time by package (share, calls per run):",
    ]
    for name, tt in sorted(by_package.items(), key=lambda item: -item[1]):
        lines.append(
            f"  {name:<20} {tt / total_time:6.1%}  {calls_by_package[name] / args.runs:9,.0f}"
        )
    lines += ["", f"top {args.top} functions by own time (share, calls per run):"]
    ranked = sorted(raw.items(), key=lambda item: -item[1][2])[: args.top]
    for (filename, line, name), (_cc, calls, tt, _ct, _callers) in ranked:
        where = f"{package_of(filename)}:{Path(filename).name}:{line}"
        lines.append(f"  {tt / total_time:6.1%}  {calls / args.runs:7,.1f}  {name}  ({where})")
    lines += ["", f"top {args.top} functions by calls per run:"]
    for (filename, line, name), (_cc, calls, _tt, _ct, _callers) in sorted(
        raw.items(), key=lambda item: -item[1][1]
    )[: args.top]:
        lines.append(f"  {calls / args.runs:9,.1f}  {name}  ({package_of(filename)}:{line})")
    lines += ["", "cumulative (share of profiled time) for the run layer's entry points:"]
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in sorted(
        raw.items(), key=lambda item: -item[1][3]
    ):
        if "/app/" in filename and ct / total_time > 0.03:
            lines.append(f"  {ct / total_time:6.1%}  {name}  ({Path(filename).name})")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
