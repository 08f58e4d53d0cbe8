"""Stopping an API process that executes runs (SIGTERM: a deploy, a scale-down).

Requests and event streams in flight get GRACEFUL_SHUTDOWN_SECONDS to finish; runs that end
within it answer as usual, and those that don't are recorded `interrupted` — never `cancelled`,
which is what a client leaving asks for, not the server stopping.
"""

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

from app.core.config import settings
from tests.support.postgres import free_port
from tests.support.processes import child_env, log_errors, start_api, stop, wait_healthy
from tests.support.sse import iter_sse
from tests.utils import API, create_user_and_login

SHUTDOWN_MESSAGE = "The worker shut down during this run."


@dataclass
class Api:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def errors(self) -> list[str]:
        """Error lines of its log."""
        return log_errors(self.log)


@asynccontextmanager
async def _api(tmp_path: Path, **env: str) -> AsyncIterator[Api]:
    """An API process that executes its runs (no Redis), with a slow offline model."""
    environment = {k: v for k, v in child_env(**env).items() if not k.startswith("REDIS_")}
    port = free_port()
    log = tmp_path / f"api-{port}.log"
    process = start_api(port, environment, log)
    try:
        wait_healthy(process, port, log)
        yield Api(f"http://127.0.0.1:{port}{API}", process, log)
    finally:
        stop([process])


async def _streamed(
    http: httpx.AsyncClient, base: str, headers: dict[str, str], policy: str, seen: list[str]
) -> list[dict[str, Any]]:
    """Stream a run with this `on_disconnect` policy; its events until the stream ends."""
    events: list[dict[str, Any]] = []
    body = {"message": f"stream with {policy}", "on_disconnect": policy}
    try:
        async with http.stream(
            "POST", f"{base}/agent/run/stream", json=body, headers=headers
        ) as response:
            async for event in iter_sse(response):
                if event["type"] == "run_started":
                    seen.append(event["run_id"])
                events.append(event)
    except httpx.TransportError:
        pass  # cut by the server
    return events


async def _waited(
    http: httpx.AsyncClient, base: str, headers: dict[str, str]
) -> httpx.Response | None:
    try:
        return await http.post(
            f"{base}/agent/run", json={"message": "wait for me"}, headers=headers
        )
    except httpx.TransportError:
        return None  # cut by the server


async def _runs(
    http: httpx.AsyncClient, base: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    return (await http.get(f"{base}/agent/runs", headers=headers)).json()["data"]


async def _start_three(http: httpx.AsyncClient, base: str, headers: dict[str, str]) -> Any:
    """Two streamed runs (cancel and continue policies) and a waited one, all running."""
    seen: list[str] = []
    work = asyncio.gather(
        _streamed(http, base, headers, "cancel", seen),
        _streamed(http, base, headers, "continue", seen),
        _waited(http, base, headers),
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        runs = await _runs(http, base, headers)
        if len(runs) == 3 and all(r["status"] == "running" for r in runs):
            return work
        await asyncio.sleep(0.05)
    raise AssertionError(f"runs never all running: {runs}")


@dataclass
class Stopped:
    """What the clients of three runs got when their API process was stopped."""

    api: Api
    cancelled: list[dict[str, Any]]  # the events of the stream with on_disconnect=cancel
    continued: list[dict[str, Any]]  # ... with on_disconnect=continue
    waited: httpx.Response | None  # the answer to POST /agent/run, None if cut
    took: float  # seconds from SIGTERM to the process's exit


async def _stop_with_three_runs(
    client: httpx.AsyncClient, tmp_path: Path, grace: str, model_latency_ms: str
) -> tuple[Stopped, dict[str, str]]:
    """Start three runs on an API process, SIGTERM it while they run; what each client got."""
    async with _api(
        tmp_path, GRACEFUL_SHUTDOWN_SECONDS=grace, OFFLINE_MODEL_LATENCY_MS=model_latency_ms
    ) as api:
        headers, _ = await create_user_and_login(client)
        async with httpx.AsyncClient(timeout=60) as http:
            work = await _start_three(http, api.base, headers)
            stopping = time.monotonic()
            api.process.terminate()
            cancelled, continued, waited = await work
            await asyncio.to_thread(api.process.wait, 30)
            took = time.monotonic() - stopping
    return Stopped(api, cancelled, continued, waited, took), headers


async def test_runs_that_end_within_the_grace_answer_as_usual(client, tmp_path) -> None:
    stopped, _ = await _stop_with_three_runs(client, tmp_path, "20", "1000")
    assert stopped.api.errors() == []
    for events in (stopped.cancelled, stopped.continued):
        assert events[-1]["type"] == "run_completed" and events[-1]["status"] == "success"
    assert stopped.waited is not None and stopped.waited.status_code == 200, stopped.waited
    assert stopped.waited.json()["status"] == "success"
    # It stopped once they had ended, not at the end of the grace.
    assert stopped.took < 15, stopped.took


async def test_runs_still_going_after_the_grace_are_interrupted_not_cancelled(
    client, tmp_path
) -> None:
    stopped, headers = await _stop_with_three_runs(client, tmp_path, "2", "5000")
    # No request was left for uvicorn to cancel (it would answer a 500). sse-starlette closes
    # the streams still open at their grace without ending the chunked body, which uvicorn
    # reports; nothing else is an error.
    cut = "uvicorn.error: ASGI callable returned without completing response."
    assert stopped.api.errors() == [cut, cut]
    waited = stopped.waited
    assert waited is not None and waited.status_code == 503, waited
    assert waited.headers["Retry-After"] == "2"
    assert waited.json() == {
        "detail": "The server is restarting; please retry shortly",
        "code": "unavailable",
    }
    for events in (stopped.cancelled, stopped.continued):
        assert "run_completed" not in [e["type"] for e in events]
    assert stopped.took < 2 + 5, stopped.took  # the grace, then the run layer's shutdown
    runs = (await client.get(f"{API}/agent/runs", headers=headers)).json()["data"]
    assert [(r["status"], r["error"]) for r in runs] == [("interrupted", SHUTDOWN_MESSAGE)] * 3


async def test_a_run_nobody_follows_still_gets_the_grace(client, tmp_path) -> None:
    """With no request open, uvicorn's graceful shutdown ends at once; the run the process
    executes (its client left, `on_disconnect=continue`) gets the rest of the grace."""
    async with _api(
        tmp_path, GRACEFUL_SHUTDOWN_SECONDS="20", OFFLINE_MODEL_LATENCY_MS="1000"
    ) as api:
        headers, _ = await create_user_and_login(client)
        async with httpx.AsyncClient(timeout=60) as http:
            body = {"message": "go on without me", "on_disconnect": "continue"}
            async with http.stream(
                "POST", f"{api.base}/agent/run/stream", json=body, headers=headers
            ) as response:
                run_id = (await anext(iter_sse(response)))["run_id"]
            for _ in range(200):
                run = (await http.get(f"{api.base}/agent/runs/{run_id}", headers=headers)).json()
                if run["status"] == "running":
                    break
                await asyncio.sleep(0.05)
            stopping = time.monotonic()
            api.process.terminate()
            await asyncio.to_thread(api.process.wait, 30)
            took = time.monotonic() - stopping
    run = (await client.get(f"{API}/agent/runs/{run_id}", headers=headers)).json()
    assert run["status"] == "success", run
    assert took < 15, took
    assert api.errors() == []
    assert "runs.draining" in api.log.read_text()


async def test_an_mcp_tool_call_in_flight_gets_the_grace_too(client, tmp_path) -> None:
    """The agent's MCP endpoint: `ask_agent` waiting past the grace is answered with a tool
    error to retry (not a cancelled request), and its run ends `interrupted`."""
    async with _api(
        tmp_path, GRACEFUL_SHUTDOWN_SECONDS="2", OFFLINE_MODEL_LATENCY_MS="5000"
    ) as api:
        headers, _ = await create_user_and_login(client)
        key = (await client.post(f"{API}/api-keys", json={"name": "ide"}, headers=headers)).json()
        root = api.base.removesuffix(API)
        async with (
            streamablehttp_client(
                f"{root}{settings.AGENT_MCP_ENDPOINT_PATH}", headers={"X-Api-Key": key["key"]}
            ) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            call = asyncio.create_task(session.call_tool("ask_agent", {"message": "slow one"}))
            async with httpx.AsyncClient(timeout=60) as http:
                for _ in range(200):
                    runs = await _runs(http, api.base, headers)
                    if runs and runs[0]["status"] == "running":
                        break
                    await asyncio.sleep(0.05)
            api.process.terminate()
            result = await call
        await asyncio.to_thread(api.process.wait, 30)
    assert result.isError
    assert "The server is restarting" in str(result.content)
    assert api.errors() == []
    (run,) = (await client.get(f"{API}/agent/runs", headers=headers)).json()["data"]
    assert (run["status"], run["error"]) == ("interrupted", SHUTDOWN_MESSAGE)
