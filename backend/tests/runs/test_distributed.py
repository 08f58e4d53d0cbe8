"""Runs across processes: two API processes and a worker process on one PostgreSQL and Redis.

Run through API A, streamed and cancelled through API B; the worker SIGKILLed mid-run again
and again — every killed run is `interrupted` within the lease, never blocks the user, and
its user message stays in the thread.
"""

import asyncio
import contextlib
import time
import uuid
from typing import Any

import httpx
import pytest

from app.core.db import SessionMaker
from app.models import EvaluationJob
from tests.runs.conftest import GRACE_SECONDS, LEASE_SECONDS, Cluster
from tests.support.postgres import free_port
from tests.support.processes import log_errors, start_api, stop, wait_healthy
from tests.support.sse import iter_sse_ids
from tests.utils import API, create_user_and_login

KILLS = 10


async def _start(
    http: httpx.AsyncClient, api: str, headers: dict[str, str], message: str, **body: Any
) -> tuple[str | None, dict[str, Any]]:
    """Start a run with on_disconnect=continue; return the first event (run_started) and leave."""
    payload = {"message": message, "on_disconnect": "continue", **body}
    async with http.stream("POST", f"{api}/agent/run/stream", json=payload, headers=headers) as r:
        assert r.status_code == 200, await r.aread()
        async for event_id, event in iter_sse_ids(r):
            return event_id, event
    raise AssertionError("no event")


async def _join(
    http: httpx.AsyncClient,
    api: str,
    headers: dict[str, str],
    run_id: str,
    after: str | None = None,
) -> list[tuple[str | None, dict[str, Any]]]:
    extra = {"Last-Event-ID": after} if after else {}
    url = f"{api}/agent/runs/{run_id}/stream"
    async with http.stream("GET", url, headers={**headers, **extra}) as response:
        assert response.status_code == 200, await response.aread()
        return [item async for item in iter_sse_ids(response)]


async def _wait_status(
    http: httpx.AsyncClient, api: str, headers: dict[str, str], run_id: str, statuses: set[str]
) -> tuple[str, float]:
    started = time.monotonic()
    while time.monotonic() - started < 30:
        run = (await http.get(f"{api}/agent/runs/{run_id}", headers=headers)).json()
        if run["status"] in statuses:
            return run["status"], time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {statuses}: {run['status']}")


async def test_run_on_a_streamed_and_cancelled_on_b(client, cluster: Cluster) -> None:
    api_a, api_b = cluster.apis
    headers, _ = await create_user_and_login(client)
    async with httpx.AsyncClient(timeout=60) as http:
        first_id, started = await _start(http, api_a, headers, "show my items")
        assert started["type"] == "run_started" and first_id, started
        run_id = started["run_id"]
        on_b = await _join(http, api_b, headers, run_id)
        on_a = await _join(http, api_a, headers, run_id)
        assert on_b == on_a, "both replicas serve the same log"
        types = [event["type"] for _, event in on_b]
        assert types[0] == "run_started" and types[-1] == "run_completed"
        assert {"plan", "tool_call", "tool_result", "token"} <= set(types)
        ids = [event_id for event_id, _ in on_b]
        assert all(ids) and len(set(ids)) == len(ids)

        # A second, slow run: cancelled through B while the worker executes it.
        _, started = await _start(
            http, api_a, headers, "tell me a long story", thread_id=started["thread_id"]
        )
        slow_id = started["run_id"]
        await _wait_status(http, api_a, headers, slow_id, {"running"})
        cancelled = await http.post(f"{api_b}/agent/runs/{slow_id}/cancel", headers=headers)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        events_b = await _join(http, api_b, headers, slow_id)
        events_a = await _join(http, api_a, headers, slow_id)
        assert events_a == events_b
        assert events_b[-1][1] == {
            "type": "error",
            "code": "cancelled",
            "message": "Run cancelled",
            "run_id": slow_id,
        }
        # Cancelled once: a later cancel is a conflict, and the status never changes again.
        again = await http.post(f"{api_a}/agent/runs/{slow_id}/cancel", headers=headers)
        assert again.status_code == 409
        await asyncio.sleep(1.0)
        final = (await http.get(f"{api_a}/agent/runs/{slow_id}", headers=headers)).json()
        assert final["status"] == "cancelled"


@pytest.mark.timeout(600)
async def test_evaluation_job_runs_on_the_worker_and_any_replica_reports_it(
    client, cluster: Cluster
) -> None:
    api_a, api_b = cluster.apis
    headers, _ = await create_user_and_login(client, is_superuser=True)
    async with httpx.AsyncClient(timeout=60) as http:
        _, started = await _start(http, api_a, headers, "show my items")
        await _wait_status(http, api_a, headers, started["run_id"], {"success"})
        response = await http.post(
            f"{api_a}/agent/evaluations",
            json={"source": "db", "judge": "offline", "metrics": ["toxicity"]},
            headers=headers,
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = (await http.get(f"{api_b}/agent/evaluations/{job_id}", headers=headers)).json()
            if job["status"] not in ("queued", "running"):
                break
            await asyncio.sleep(0.1)
    # Started on API A, executed by the worker process (neither API executes jobs), read on B.
    assert job["status"] == "completed", job
    assert job["judgments_done"] >= 1 and job["summary"]["judge"] == "offline"
    async with SessionMaker() as session:
        row = await session.get(EvaluationJob, uuid.UUID(job_id))
    assert row is not None and row.worker is not None
    assert row.worker.split(":")[1] == str(cluster.worker.pid)


async def test_killed_worker_runs_are_interrupted_within_the_lease(
    client, cluster: Cluster
) -> None:
    api_a, api_b = cluster.apis
    headers, _ = await create_user_and_login(client)
    thread_id: str | None = None
    detected: list[float] = []
    async with httpx.AsyncClient(timeout=60) as http:
        for n in range(KILLS):
            body = {"thread_id": thread_id} if thread_id else {}
            _, started = await _start(http, api_a, headers, f"killed turn {n}", **body)
            thread_id = started["thread_id"]
            run_id = started["run_id"]
            await _wait_status(http, api_a, headers, run_id, {"running"})
            killed_at = time.monotonic()
            # SIGKILL, and start the next worker while the API notices the death.
            restart = asyncio.create_task(asyncio.to_thread(cluster.restart_worker, kill=True))
            status, _ = await _wait_status(
                http, api_b, headers, run_id, {"interrupted", "success", "error"}
            )
            detected.append(time.monotonic() - killed_at)
            assert status == "interrupted"
            # The stream of a killed run ends, saying so.
            events = await _join(http, api_b, headers, run_id)
            assert events[-1][1]["type"] == "error"
            assert events[-1][1]["code"] == "interrupted"
            await restart
        # Interrupted runs never count against the cap of 3: the thread goes on.
        done = await http.post(
            f"{api_b}/agent/run",
            json={"message": "show my items", "thread_id": thread_id},
            headers=headers,
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "success"
        thread = (await http.get(f"{api_a}/agent/threads/{thread_id}", headers=headers)).json()
    users = [m for m in thread["messages"] if m["role"] == "user"]
    assert [m["content"] for m in users] == [f"killed turn {n}" for n in range(KILLS)] + [
        "show my items"
    ]
    assert all(m["run_status"] == "interrupted" for m in users[:-1])
    assert users[-1]["run_status"] is None
    # Within the lease plus one sweep interval (and polling slack).
    limit = LEASE_SECONDS + LEASE_SECONDS / 3 + 1.0
    assert max(detected) <= limit, detected
    print(
        f"\nkilled runs detected after {min(detected):.2f}–{max(detected):.2f} s (lease {LEASE_SECONDS} s)"
    )


async def test_a_stopped_worker_finishes_its_runs_within_the_grace_then_interrupts(
    client, cluster: Cluster
) -> None:
    """SIGTERM (a deploy, a scale-down): the worker takes no more jobs and gives the run in
    flight GRACEFUL_SHUTDOWN_SECONDS to finish; without a grace the run ends `interrupted` at
    once, saying why. Either way the worker exits 0 with no error in its log."""
    api_a, api_b = cluster.apis
    headers, _ = await create_user_and_login(client)
    async with httpx.AsyncClient(timeout=60) as http:
        # Within the grace (the cluster's), the run ends as usual.
        _, started = await _start(http, api_a, headers, "finish me")
        drained_id, thread_id = started["run_id"], started["thread_id"]
        await _wait_status(http, api_a, headers, drained_id, {"running"})
        drained_worker = cluster.restarts
        drained_code = await asyncio.to_thread(cluster.restart_worker, kill=False)
        drained = (await http.get(f"{api_b}/agent/runs/{drained_id}", headers=headers)).json()
        drained_events = await _join(http, api_b, headers, drained_id)
        # A worker without a grace: the (idle) worker is replaced by one, and then stopped.
        cluster.env["GRACEFUL_SHUTDOWN_SECONDS"] = "0"
        await asyncio.to_thread(cluster.restart_worker, kill=False)
        cluster.env["GRACEFUL_SHUTDOWN_SECONDS"] = GRACE_SECONDS  # for the next one
        body = {"thread_id": thread_id}
        _, started = await _start(http, api_a, headers, "stopped turn", **body)
        stopped_id = started["run_id"]
        await _wait_status(http, api_a, headers, stopped_id, {"running"})
        stopped_worker = cluster.restarts
        stopped_code = await asyncio.to_thread(cluster.restart_worker, kill=False)
        stopped = (await http.get(f"{api_b}/agent/runs/{stopped_id}", headers=headers)).json()
        stopped_events = await _join(http, api_b, headers, stopped_id)
        done = await http.post(
            f"{api_b}/agent/run",
            json={"message": "hello again", "thread_id": thread_id},
            headers=headers,
        )
    assert drained["status"] == "success", drained
    assert drained_events[-1][1]["type"] == "run_completed"
    # Recorded by the stopping worker itself (the lease sweep would say "stopped before").
    assert stopped["status"] == "interrupted", stopped
    assert stopped["error"] == "The worker shut down during this run."
    assert stopped_events[-1][1]["type"] == "error"
    assert stopped_events[-1][1]["code"] == "interrupted"
    for worker, code in ((drained_worker, drained_code), (stopped_worker, stopped_code)):
        assert code == 0
        log = cluster.worker_log(worker).read_text(errors="replace")
        assert "worker.stopping" in log
        assert log_errors(cluster.worker_log(worker)) == []
    assert done.status_code == 200 and done.json()["status"] == "success", done.text


async def test_stopping_an_api_replica_leaves_the_workers_runs_running(
    client, cluster: Cluster, tmp_path
) -> None:
    """A deploy restarts an API replica under a client's stream (default `on_disconnect`:
    cancel). The server cut the stream, the client didn't leave: the run goes on on the worker,
    and the client rejoins it through another replica."""
    port = free_port()
    log = tmp_path / "api-stopped.log"
    replica = start_api(port, {**cluster.env, "GRACEFUL_SHUTDOWN_SECONDS": "1"}, log)
    try:
        wait_healthy(replica, port, log)
        headers, _ = await create_user_and_login(client)
        async with httpx.AsyncClient(timeout=60) as http:
            async with http.stream(
                "POST",
                f"http://127.0.0.1:{port}{API}/agent/run/stream",
                json={"message": "outlive my replica"},
                headers=headers,
            ) as response:
                events = iter_sse_ids(response)
                last_id, started = await anext(events)
                run_id = started["run_id"]
                replica.terminate()
                with contextlib.suppress(httpx.TransportError):
                    async for event_id, _ in events:
                        last_id = event_id
            assert await asyncio.to_thread(replica.wait, 20) is not None
            status, _ = await _wait_status(
                http, cluster.apis[0], headers, run_id, {"success", "cancelled", "error"}
            )
            rest = await _join(http, cluster.apis[1], headers, run_id, last_id)
    finally:
        stop([replica])
    assert status == "success"
    assert rest[-1][1]["type"] == "run_completed"
