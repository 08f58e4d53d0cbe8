"""The fault matrix: every provider/tool/telemetry fault × every entry point ends one way.

Each case asserts the documented outcome (README, "Provider resilience"): the HTTP status
of `/agent/run` and approval resume, the run's final status (never `pending`/`running`,
never a `success` without an answer), exactly one terminal event in the run's log, the run
counter, and the primary's circuit breaker (threshold 1 here, so one failed call opens it).
A JSON report of every case goes to `backend/reports/resilience-<time>.json`.

Infrastructure outages use servers of their own (tests/resilience/outages.py), never the
session-wide ones other test workers share: Redis down (a throwaway `redis-server` stopped
under an app that queues, logs events and keeps breakers in it) on every entry point, then
back; PostgreSQL restarted (`pg_ctl restart -m fast`), or stopped for 3 s, while a run's model
call is in flight, under an API process on a throwaway PostgreSQL.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.core.circuit_breaker import BreakerState
from app.core.config import BACKEND_DIR, settings
from tests.fakes.llm_script import (
    AnyReply,
    Reply,
    ToolCall,
    error,
    hang,
    malformed_json,
    stall,
    structured,
    tool_call,
)
from tests.resilience.conftest import AppClient, is_planner, stub_chain
from tests.resilience.outages import (
    IsolatedApi,
    admin_headers,
    postgres_down_for,
    postmaster_pid,
    restart_postgres,
    start_isolated_api,
    stub_env,
)
from tests.support.live_server import serve
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer, start_redis
from tests.support.sse import collect_sse
from tests.utils import API, create_user_and_login

PRIMARY = "openai:stub-model"
ENTRY_POINTS = ("run", "stream", "resume", "protocol")
TERMINAL = {"run_completed", "error"}
BIG_BODY = "x" * 200_000


@dataclass(frozen=True)
class Fault:
    """A fault, what the stub answers for it, and the documented outcome."""

    name: str
    reply: Callable[[str], AnyReply]  # given the big-body URL
    http: int  # /agent/run and approval resume
    status: str  # the run's final status
    code: str | None  # the terminal error event's code; None: run_completed
    breaker: BreakerState  # the primary's breaker after the run
    every_call: bool = True  # every executor call gets it (else only the first)
    target: str = "executor"  # or "planner"
    entries: tuple[str, ...] = ENTRY_POINTS


OPEN, CLOSED = BreakerState.OPEN, BreakerState.CLOSED
FAULTS = [
    Fault("timeout", lambda _: Reply(text="late", delay=2.5), 504, "error", "model_timeout", OPEN),
    Fault("hang", lambda _: hang(30), 504, "error", "model_timeout", OPEN),
    # A stream that stalls after its first events has reached the user: it fails (no
    # fallback) and counts against the model. Unstreamed, the answer never starts.
    Fault("stall_mid_stream", lambda _: stall(2, 30), 504, "error", "model_timeout", OPEN),
    Fault(
        "cut_stream",
        lambda _: Reply(text="this answer is cut off " * 5, cut_after=3),
        502,
        "error",
        "model_error",
        OPEN,
    ),
    Fault(
        "429_retry_after", lambda _: error(429, retry_after=0), 502, "error", "model_error", OPEN
    ),
    Fault("429_no_retry_after", lambda _: error(429), 502, "error", "model_error", OPEN),
    Fault("5xx", lambda _: error(503), 502, "error", "model_error", OPEN),
    Fault("malformed_json", lambda _: malformed_json(), 502, "error", "model_error", OPEN),
    Fault(
        "malformed_tool_args",
        lambda _: Reply(tool_calls=[ToolCall("lookup_user_items", "{not json", id="c1")]),
        502,
        "error",
        "model_error",
        CLOSED,
    ),
    # The plan is advice: every model's plan invalid -> the executor answers without one.
    Fault(
        "invalid_structured_plan",
        lambda _: structured({"steps": "not a list"}),
        200,
        "success",
        None,
        CLOSED,
        target="planner",
        entries=("run", "stream", "protocol"),  # a resumed run doesn't plan again
    ),
    # A tool that raises becomes an error result the model reads; it then answers.
    Fault(
        "tool_exception",
        lambda _: tool_call("lookup_item_by_id", {"item_id": "not-a-uuid"}),
        200,
        "success",
        None,
        CLOSED,
        every_call=False,
    ),
    Fault(
        "oversized_tool_output",
        lambda url: tool_call("http_get", {"url": url}),
        200,
        "success",
        None,
        CLOSED,
        every_call=False,
    ),
    Fault("langfuse_down", lambda _: Reply(text="An answer."), 200, "success", None, CLOSED),
    # Every model's breaker open before the run: refused at once, no call made.
    Fault("breaker_open", lambda _: Reply(text="unused"), 503, "error", "model_unavailable", OPEN),
]
CASES = [(fault, entry) for fault in FAULTS for entry in fault.entries]


@dataclass
class Observed:
    """What one case saw."""

    fault: str
    entry: str
    http: int
    run_status: str | None = None
    terminal: list[str] = field(default_factory=list)
    response: str | None = None
    breaker: str | None = None
    primary_calls: int = 0
    seconds: float = 0.0
    recovered: str | None = None  # outages: the next run's status once the server is back
    passed: bool = False

    async def ended(
        self, http: Any, headers: dict[str, str], run_id: str, body: dict[str, Any], calls: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Record the entry point's answer, the run's record and its terminal events (returned
        for the case's assertions)."""
        self.http = body["__http__"]
        self.primary_calls = calls
        run = (await http.get(f"{API}/agent/runs/{run_id}", headers=headers)).json()
        self.run_status, self.response = run["status"], run["response"]
        events = await terminal_events(http, headers, run_id)
        self.terminal = [f"{e['type']}:{e.get('code') or e.get('status')}" for e in events]
        return run, events


REPORT: list[Observed] = []


@pytest.fixture(scope="module", autouse=True)
def resilience_report() -> Iterator[None]:
    """Write every case's observation to backend/reports/ when the module ends."""
    started = datetime.now(UTC)
    yield
    reports = BACKEND_DIR / "reports"
    reports.mkdir(exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    body = {
        "started": started.isoformat(),
        "cases": len(REPORT),
        "passed": sum(o.passed for o in REPORT),
        "results": [asdict(o) for o in REPORT],
    }
    (reports / f"resilience-{stamp}.json").write_text(json.dumps(body, indent=2))


@pytest.fixture(scope="module")
async def big_url() -> AsyncIterator[str]:
    """A loopback page far larger than AGENT_HTTP_MAX_RESPONSE_BYTES."""

    async def page(_request: Request) -> PlainTextResponse:
        return PlainTextResponse(BIG_BODY)

    async with serve(Starlette(routes=[Route("/big", page)]), lifespan="off") as base:
        yield f"{base}/big"


def responder(fault: Fault, big_url: str) -> Callable[[dict[str, Any]], AnyReply | None]:
    """The stub's answers: the fault for its target call(s), auto mode for the others."""
    given = 0

    def respond(body: dict[str, Any]) -> AnyReply | None:
        nonlocal given
        if is_planner(body) != (fault.target == "planner"):
            return None
        if not fault.every_call and given:
            return None
        given += 1
        return fault.reply(big_url)

    return respond


def counter(status: str) -> float:
    return REGISTRY.get_sample_value("agent_invocations_by_status_total", {"status": status}) or 0


async def terminal_events(http: Any, headers: dict[str, str], run_id: str) -> list[dict[str, Any]]:
    async with http.stream("GET", f"{API}/agent/runs/{run_id}/stream", headers=headers) as r:
        assert r.status_code == 200
        return [e for e in await collect_sse(r) if e["type"] in TERMINAL]


@pytest.fixture(scope="module")
def matrix_settings(openai_stub_server: Any, langfuse_fake_server: Any) -> Iterator[None]:
    """The settings of the matrix's one app (restored after the module)."""
    values = {
        **stub_chain(openai_stub_server),
        "AGENT_APPROVAL_REQUIRED_TOOLS": ["lookup_user_items"],
        "AGENT_HTTP_TEST_HOSTS": ["127.0.0.1"],
        "AGENT_HTTP_MAX_RESPONSE_BYTES": 20_000,
        "LANGFUSE_ENABLED": True,
        "LANGFUSE_PUBLIC_KEY": langfuse_fake_server.public_key,
        "LANGFUSE_SECRET_KEY": langfuse_fake_server.secret_key,
        "LANGFUSE_BASE_URL": langfuse_fake_server.url,
    }
    saved = {name: getattr(settings, name) for name in values}
    for name, value in values.items():
        setattr(settings, name, value)
    yield
    for name, value in saved.items():
        setattr(settings, name, value)


@pytest.fixture(scope="module")
async def matrix_app(matrix_settings: None) -> AsyncIterator[AppClient]:
    """One app for every case (its breakers are reset before each)."""
    from app.main import create_app

    app = create_app()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30
        ) as http,
    ):
        yield AppClient(app, http)


@pytest.mark.parametrize(
    ("fault", "entry"), CASES, ids=[f"{fault.name}-{entry}" for fault, entry in CASES]
)
async def test_fault(
    fault: Fault,
    entry: str,
    openai_stub: Any,
    matrix_app: AppClient,
    langfuse_fake: Any,
    big_url: str,
) -> None:
    seen = Observed(fault.name, entry, 0)
    REPORT.append(seen)
    if fault.name == "langfuse_down":
        langfuse_fake.faults.fail_next(10_000, status=503)
    ac = matrix_app
    http = ac.http
    headers, _ = await create_user_and_login(http)
    breakers = ac.agent.models.breakers
    breakers.reset_local()
    paused = await _pause_if_resuming(entry, http, headers)
    if fault.name == "breaker_open":
        await breakers.record(PRIMARY, False)
    openai_stub.script.requests.clear()
    openai_stub.set_responder(responder(fault, big_url))
    before = {s: counter(s) for s in ("completed", "failed", "timeout")}
    started = time.perf_counter()
    run_id, body = await _enter(entry, http, headers, paused)
    seen.seconds = round(time.perf_counter() - started, 3)
    run, events = await seen.ended(http, headers, run_id, body, len(openai_stub.requests))
    state = breakers.last_state(PRIMARY)
    seen.breaker = state.name
    gauge = REGISTRY.get_sample_value(
        "llm_breaker_state", {"provider": "openai", "model": "stub-model"}
    )

    # The documented outcome, the same on every entry point.
    expected_http = 200 if entry in ("stream", "protocol") else fault.http
    assert seen.http == expected_http, body
    assert run["status"] == fault.status, run
    if fault.status == "success":
        assert (run["response"] or "").strip(), run
    if entry == "protocol":
        assert (body.get("__error__") or {}).get("error") == fault.code, body
    if entry in ("run", "resume") and fault.code is not None:
        assert body["code"] == fault.code, body
    ended = events[-1]
    assert len(events) == 1, events  # resumed: the log of the resumed execution
    assert ended["type"] == ("error" if fault.code else "run_completed"), ended
    assert ended.get("code") == fault.code if fault.code else ended["status"] == fault.status
    # Metrics: the run counted once by its outcome; the breaker's gauge says its state.
    outcome = (
        "completed" if fault.status == "success" else ("timeout" if fault.http == 504 else "failed")
    )
    assert counter(outcome) - before[outcome] == 1
    assert state is fault.breaker
    assert gauge == float(state)
    if fault.name == "breaker_open":
        assert seen.primary_calls == 0  # skipped at once
    if fault.name == "oversized_tool_output":
        output = next(c for c in run["tool_calls"] if c["name"] == "http_get")["output"]
        assert "truncated" in output and len(output) < 30_000
    if fault.name == "tool_exception":
        assert any(c["ok"] is False for c in run["tool_calls"]), run["tool_calls"]
    seen.passed = True


async def _pause_if_resuming(entry: str, http: Any, headers: dict[str, str]) -> Any:
    """For the approval-resume entry point, a run paused on an approval first (healthy model)."""
    if entry != "resume":
        return None
    paused = await http.post(f"{API}/agent/run", json={"message": "show my items"}, headers=headers)
    assert paused.json()["status"] == "awaiting_approval", paused.text
    return paused


async def _enter(
    entry: str, http: Any, headers: dict[str, str], paused: Any
) -> tuple[str, dict[str, Any]]:
    """Start (or resume) a run at `entry`; its id and the answer (`__http__`: the status)."""
    message = {"message": "hello"}
    if entry == "run":
        response = await http.post(f"{API}/agent/run", json=message, headers=headers)
        body = response.json()
        run_id = body.get("run_id") or body["run"]["run_id"]
        return run_id, {**body, "__http__": response.status_code}
    if entry == "stream":
        async with http.stream(
            "POST", f"{API}/agent/run/stream", json=message, headers=headers
        ) as response:
            events = await collect_sse(response)
        assert sum(e["type"] in TERMINAL for e in events) == 1, events
        return events[0]["run_id"], {"events": events, "__http__": response.status_code}
    if entry == "resume":
        run = paused.json()
        url = f"{API}/agent/threads/{run['thread_id']}/approvals/"
        url += run["pending_approval"]["approval_id"]
        response = await http.post(url, json={"decision": "approve"}, headers=headers)
        body = response.json()
        run_id = body.get("run_id") or body["run"]["run_id"]
        return run_id, {**body, "__http__": response.status_code}
    base = settings.AGENT_PROTOCOL_PATH
    thread = (await http.post(f"{base}/threads", json={}, headers=headers)).json()
    response = await http.post(
        f"{base}/threads/{thread['thread_id']}/runs/wait",
        json={
            "assistant_id": "agent",
            "input": {"messages": [{"role": "user", "content": "hello"}]},
        },
        headers=headers,
    )
    run_id = response.headers["content-location"].rstrip("/").split("/")[-1]
    return run_id, {**response.json(), "__http__": response.status_code}


# Infrastructure outages: Redis down, PostgreSQL restarted mid-run (tests/resilience/outages.py).


@pytest.fixture(scope="module")
def outage_redis() -> Iterator[RedisServer]:
    """A redis-server of the matrix's own: the session-wide one other workers use stays up."""
    server = start_redis()
    yield server
    server.close()


@pytest.mark.parametrize("entry", ENTRY_POINTS)
async def test_redis_down(
    entry: str,
    openai_stub: Any,
    matrix_settings: None,
    agent_settings: Any,
    app_client: Any,
    outage_redis: RedisServer,
) -> None:
    """Queue, event log and breakers on Redis; Redis stops: 503 `unavailable` with Retry-After,
    the run recorded `error`, breakers kept in this process; Redis back: a run succeeds."""
    seen = Observed("redis_down", entry, 0)
    REPORT.append(seen)
    if not outage_redis.running():
        outage_redis.start()
    agent_settings(REDIS_URL=outage_redis.url)
    async with app_client() as ac:
        http = ac.http
        headers, _ = await create_user_and_login(http)
        breakers = ac.agent.models.breakers
        assert breakers.redis is not None  # shared through Redis while it answers
        paused = await _pause_if_resuming(entry, http, headers)
        openai_stub.script.requests.clear()
        before = await _run_count(http, headers)
        outage_redis.stop()
        started = time.perf_counter()
        response = await _refused(entry, http, headers, paused)
        seen.seconds = round(time.perf_counter() - started, 3)
        seen.http = response.status_code
        runs = await _runs(http, headers)
        seen.run_status = runs[0]["status"] if runs else None
        seen.primary_calls = len(openai_stub.requests)
        # Breakers: a failure recorded now is kept in this process (Redis can't be asked).
        breakers.reset_local()
        state = await breakers.record(PRIMARY, False)
        seen.breaker = state.name

        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "2"
        if entry != "protocol":
            assert response.json()["code"] == "unavailable", response.text
        assert len(runs) == before + (0 if entry == "resume" else 1)
        latest = runs[0]  # the refused run (resume: the approved run itself)
        assert latest["status"] == "error", latest
        assert seen.primary_calls == 0  # nothing ran
        assert state is OPEN and breakers.local.state(PRIMARY) is OPEN

        outage_redis.start()  # Redis back: the same app serves a run
        breakers.reset_local()
        openai_stub.set_responder(None)
        again = await http.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "success", again.text
        seen.recovered = again.json()["status"]
    seen.passed = True


async def _refused(
    entry: str, http: httpx.AsyncClient, headers: dict[str, str], paused: Any
) -> httpx.Response:
    """Send the entry point's request; the response, its body read (a stream must not start)."""
    if entry == "stream":
        async with http.stream(
            "POST", f"{API}/agent/run/stream", json={"message": "hello"}, headers=headers
        ) as response:
            await response.aread()
        return response
    if entry == "resume":
        run = paused.json()
        url = f"{API}/agent/threads/{run['thread_id']}/approvals/"
        url += run["pending_approval"]["approval_id"]
        return await http.post(url, json={"decision": "approve"}, headers=headers)
    if entry == "run":
        return await http.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
    base = settings.AGENT_PROTOCOL_PATH
    thread = (await http.post(f"{base}/threads", json={}, headers=headers)).json()
    return await http.post(
        f"{base}/threads/{thread['thread_id']}/runs/wait",
        json={"assistant_id": "agent", "input": {"messages": [{"role": "user", "content": "hi"}]}},
        headers=headers,
    )


async def _runs(http: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    """The user's runs, newest first."""
    response = await http.get(f"{API}/agent/runs", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def _run_count(http: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return len(await _runs(http, headers))


@pytest.fixture(scope="module", autouse=True)
def outage_api_starting(
    openai_stub_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Future[IsolatedApi]]:
    """Start the PostgreSQL-restart cases' API in the background while the other cases run
    (initdb, migrations and start-up take ~20 s on a busy machine)."""
    logs = tmp_path_factory.mktemp("pg-outage")
    with ThreadPoolExecutor(1) as pool:
        starting = pool.submit(start_isolated_api, stub_env(openai_stub_server), logs)
        yield starting
        if starting.exception() is None:
            starting.result().close()


@pytest.fixture
def outage_api(outage_api_starting: Future[IsolatedApi]) -> IsolatedApi:
    """An API process on a PostgreSQL of its own (the session-wide one is never restarted)."""
    return outage_api_starting.result(timeout=120)


@dataclass(frozen=True)
class DatabaseOutage:
    """What happens to PostgreSQL once the run's answer is being asked of the model."""

    name: str
    model_delay: float  # seconds the model takes to answer
    outage: Callable[[PostgresServer], object]


DB_OUTAGES = [
    # Restarted while the model answers; back before the run writes anything.
    DatabaseOutage("postgres_restarted", 3.0, restart_postgres),
    # Stopped while the model answers, and still down when the answer is in: the run's
    # writes wait for it (psycopg_pool waits for a connection), so it ends the same way.
    DatabaseOutage("postgres_down_at_run_end", 1.0, lambda pg: postgres_down_for(pg, 3.0)),
]
DB_CASES = [(outage, entry) for outage in DB_OUTAGES for entry in ENTRY_POINTS]


@pytest.mark.parametrize(
    ("db", "entry"), DB_CASES, ids=[f"{db.name}-{entry}" for db, entry in DB_CASES]
)
async def test_postgres_outage_mid_run(
    db: DatabaseOutage, entry: str, openai_stub: Any, outage_api: IsolatedApi
) -> None:
    """PostgreSQL restarts, or goes down for a while, during a run's model call."""
    seen = Observed(db.name, entry, 0)
    REPORT.append(seen)
    async with httpx.AsyncClient(base_url=outage_api.base_url, timeout=60) as http:
        headers = await admin_headers(http)
        paused = await _pause_if_resuming(entry, http, headers)
        openai_stub.script.requests.clear()
        delay = db.model_delay
        openai_stub.set_responder(
            lambda body: None if is_planner(body) else Reply(text="A slow answer.", delay=delay)
        )
        started = time.perf_counter()
        entered = asyncio.create_task(_enter(entry, http, headers, paused))
        while not any(not is_planner(r) for r in openai_stub.requests):
            assert not entered.done(), entered.result()
            await asyncio.sleep(0.05)
        postmaster = postmaster_pid(outage_api.postgres)
        await asyncio.to_thread(db.outage, outage_api.postgres)
        assert not entered.done()  # the outage was mid-run: it is still going
        assert postmaster_pid(outage_api.postgres) != postmaster  # a new server process
        run_id, body = await entered
        seen.seconds = round(time.perf_counter() - started, 3)
        run, _ = await seen.ended(http, headers, run_id, body, len(openai_stub.requests))
        openai_stub.set_responder(None)
        again = await http.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
        seen.recovered = again.json().get("status")

    # Dead pooled connections are discarded at checkout (the app's pool and the
    # checkpointer's) and new ones wait for the server, so the run records its answer:
    # `success`, as on a healthy server.
    assert seen.http == 200, body
    assert run["status"] == "success" and run["response"] == "A slow answer.", run
    assert seen.terminal == ["run_completed:success"]
    if entry == "protocol":
        assert body["messages"][-1]["content"] == "A slow answer.", body
    assert seen.recovered == "success", again.text  # the same process serves the next run
    seen.passed = True
