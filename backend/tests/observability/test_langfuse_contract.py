"""Langfuse contract: what a Langfuse server receives for an agent run, and that a slow or
unreachable Langfuse never fails or slows a run. The server is the local fake built to the
Langfuse OpenAPI spec (tests/fakes/langfuse.py); the SDK and our code are the real ones."""

import asyncio
import json
import statistics
import time
import uuid
from typing import Any

from langfuse import Langfuse
from langfuse.langchain import CallbackHandler

from app.agents.offline_model import OfflineChatModel
from app.core import telemetry
from tests.fakes.background import BlackHoleServer
from tests.fakes.langfuse import LangfuseFake
from tests.fakes.langfuse_model import Trace
from tests.observability.conftest import EnableTracing
from tests.utils import API, create_item, create_user_and_login


def sse_events(text: str) -> list[dict[str, Any]]:
    """The JSON payloads of a text/event-stream body, in order."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].strip() for line in block.split("\n") if line.startswith("data:")]
        if data:
            events.append(json.loads("\n".join(data)))
    return events


async def flush() -> None:
    """Export buffered spans now (the SDK's flush blocks, so off the event loop)."""
    await asyncio.to_thread(telemetry.flush_telemetry)


async def complete_trace(fake: LangfuseFake, trace_id: str) -> Trace:
    """Wait until the trace has its root output, a generation and a tool observation."""

    def probe() -> Trace | None:
        trace = fake.trace(trace_id)
        if trace is None or trace.output is None:
            return None
        types = {obs.type for obs in trace.observations}
        return trace if {"GENERATION", "TOOL"} <= types else None

    return await fake.await_for(probe, 10)


async def test_run_is_one_trace_with_user_session_generations_and_tools(
    client: Any, langfuse_fake: LangfuseFake, enable_tracing: EnableTracing
) -> None:
    enable_tracing(langfuse_fake.url, langfuse_fake.public_key, langfuse_fake.secret_key)
    headers, user = await create_user_and_login(client)
    await create_item(user.id, title="Blue lamp")
    response = await client.post(
        f"{API}/agent/run",
        json={"message": "show my items", "metadata": {"source": "contract-test"}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    trace_id = body["trace_id"]
    assert trace_id == Langfuse.create_trace_id(seed=body["run_id"])
    assert body["trace_url"] == f"{langfuse_fake.url}/trace/{trace_id}"

    stored = (await client.get(f"{API}/agent/runs/{body['run_id']}", headers=headers)).json()
    assert stored["trace_id"] == trace_id
    assert stored["trace_url"] == body["trace_url"]

    await flush()
    trace = await complete_trace(langfuse_fake, trace_id)
    assert list(langfuse_fake.traces()) == [trace_id]  # one run, one trace
    assert trace.name == "agent_run"
    assert trace.user_id == str(user.id)
    assert trace.session_id == body["thread_id"]
    assert "agent" in trace.tags
    assert trace.environment == "test"
    assert {
        "user_id": str(user.id),
        "app_env": "test",
        "run_id": body["run_id"],
        "thread_id": body["thread_id"],
        "source": "contract-test",
    }.items() <= trace.metadata.items()
    assert "show my items" in json.dumps(trace.input)
    assert "Blue lamp" in json.dumps(trace.output)

    generations = [obs for obs in trace.observations if obs.type == "GENERATION"]
    assert generations and all(obs.model == "offline-demo" for obs in generations)
    assert all(obs.usage_details["input"] > 0 for obs in generations)
    assert sum(obs.usage_details["input"] for obs in generations) == body["prompt_tokens"]
    assert sum(obs.usage_details["output"] for obs in generations) == body["completion_tokens"]
    assert all(obs.latency is not None and obs.latency >= 0 for obs in generations)
    assert {"planner", "executor", "tools"} <= {obs.name for obs in trace.observations}

    tools = [obs for obs in trace.observations if obs.type == "TOOL"]
    assert [obs.name for obs in tools] == ["lookup_user_items"]
    assert "Blue lamp" in (tools[0].output or "")

    posts = [r for r in langfuse_fake.requests if r.path == "/api/public/otel/v1/traces"]
    assert posts and all(r.status == 200 for r in posts)
    assert all(r.headers["authorization"].startswith("Basic ") for r in posts)


async def test_stream_announces_the_trace_before_the_run(
    client: Any, langfuse_fake: LangfuseFake, enable_tracing: EnableTracing
) -> None:
    enable_tracing(langfuse_fake.url, langfuse_fake.public_key, langfuse_fake.secret_key)
    headers, user = await create_user_and_login(client)
    await create_item(user.id, title="Green vase")
    response = await client.post(
        f"{API}/agent/run/stream", json={"message": "show my items"}, headers=headers
    )
    assert response.status_code == 200
    events = sse_events(response.text)
    started, completed = events[0], events[-1]
    assert started["type"] == "run_started" and completed["type"] == "run_completed"
    assert started["trace_id"] == completed["trace_id"]
    assert started["trace_id"] == Langfuse.create_trace_id(seed=started["run_id"])
    assert started["trace_url"] == completed["trace_url"] is not None

    await flush()
    trace = await complete_trace(langfuse_fake, started["trace_id"])
    assert trace.session_id == started["thread_id"]
    assert any(obs.completion_start_time is not None for obs in trace.observations)


async def test_unsampled_run_has_no_trace_and_sends_nothing(
    client: Any, langfuse_fake: LangfuseFake, enable_tracing: EnableTracing
) -> None:
    enable_tracing(
        langfuse_fake.url,
        langfuse_fake.public_key,
        langfuse_fake.secret_key,
        LANGFUSE_SAMPLE_RATE=0.0,
    )
    headers, _ = await create_user_and_login(client)
    response = await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["trace_id"] is None and body["trace_url"] is None
    stored = (await client.get(f"{API}/agent/runs/{body['run_id']}", headers=headers)).json()
    assert stored["trace_id"] is None
    await flush()
    assert langfuse_fake.spans == []


async def test_sampling_decision_matches_what_the_tracer_exports(
    langfuse_fake: LangfuseFake, enable_tracing: EnableTracing
) -> None:
    """start_run_trace's decision agrees with the exporter's sampler for the same trace id."""
    enable_tracing(
        langfuse_fake.url,
        langfuse_fake.public_key,
        langfuse_fake.secret_key,
        LANGFUSE_SAMPLE_RATE=0.5,
    )
    run_ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"run-{n}") for n in range(40)]
    decided = {
        run_id: telemetry.start_run_trace(
            run_id=run_id, user_id=run_id, thread_id=run_id, tags=[], metadata={}
        )
        for run_id in run_ids
    }
    sampled = [r for r, t in decided.items() if t.trace_id is not None]
    unsampled = [r for r, t in decided.items() if t.trace_id is None]
    assert sampled and unsampled  # 40 ids at rate 0.5: both kinds occur (deterministic ids)
    assert all(decided[r].callbacks == [] for r in unsampled)
    # Force a Langfuse callback onto one id of each kind: only the sampled one is exported.
    model = OfflineChatModel()
    for run_id in (sampled[0], unsampled[0]):
        trace_id = telemetry.trace_id_for_run(run_id)
        handler = CallbackHandler(
            public_key=langfuse_fake.public_key, trace_context={"trace_id": trace_id}
        )
        await model.ainvoke("hello", config={"callbacks": [handler]})
    await flush()
    sampled_id = telemetry.trace_id_for_run(sampled[0])
    await langfuse_fake.await_trace(sampled_id)
    assert {span.trace_id for span in langfuse_fake.spans} == {sampled_id}


async def _run_wall_time(client: Any, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    response = await client.post(
        f"{API}/agent/run", json={"message": "show my items"}, headers=headers
    )
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"
    return elapsed


async def _assert_runs_unaffected(
    client: Any, enable: Any, *, bound_s: float = 0.75
) -> tuple[float, list[float]]:
    """Runs without tracing, then with `enable()`: the median stays within baseline + bound.

    A Langfuse call on the request path would add at least the SDK timeout (>= 2 s here) or
    the fake's injected latency (3 s) to every run; the bound leaves room for a loaded machine.
    """
    headers, user = await create_user_and_login(client)
    await create_item(user.id, title="Lamp")
    baseline = statistics.median([await _run_wall_time(client, headers) for _ in range(3)])
    enable()
    traced = [await _run_wall_time(client, headers) for _ in range(3)]
    print(f"run wall time: untraced median {baseline:.3f}s, traced {[round(t, 3) for t in traced]}")
    assert statistics.median(traced) < baseline + bound_s, (baseline, traced)
    assert max(traced) < baseline + 2 * bound_s, (baseline, traced)
    return baseline, traced


async def test_unreachable_langfuse_does_not_slow_runs(
    client: Any, closed_port_url: str, enable_tracing: EnableTracing
) -> None:
    await _assert_runs_unaffected(
        client,
        lambda: enable_tracing(
            closed_port_url,
            "pk-lf-closed",
            "sk-lf-closed",
            LANGFUSE_TIMEOUT_SECONDS=2,
            LANGFUSE_SHUTDOWN_TIMEOUT_SECONDS=1.0,
        ),
    )
    start = time.perf_counter()
    await telemetry.shutdown_telemetry()
    assert time.perf_counter() - start < 1.5


async def test_langfuse_that_never_answers_does_not_slow_runs(
    client: Any, black_hole: BlackHoleServer, enable_tracing: EnableTracing
) -> None:
    await _assert_runs_unaffected(
        client,
        lambda: enable_tracing(
            black_hole.url,
            "pk-lf-blackhole",
            "sk-lf-blackhole",
            LANGFUSE_TIMEOUT_SECONDS=2,
            LANGFUSE_SHUTDOWN_TIMEOUT_SECONDS=1.0,
        ),
    )
    start = time.perf_counter()
    await telemetry.shutdown_telemetry()  # flushes into the black hole: bounded wait
    assert time.perf_counter() - start < 1.5
    for _ in range(60):  # up to 3 s
        if black_hole.accepted:
            break
        await asyncio.sleep(0.05)
    assert black_hole.accepted >= 1  # the SDK really tried to export there


async def test_slow_langfuse_does_not_slow_runs(
    client: Any, langfuse_fake: LangfuseFake, enable_tracing: EnableTracing
) -> None:
    langfuse_fake.faults.latency = 3.0
    _, traced = await _assert_runs_unaffected(
        client,
        lambda: enable_tracing(
            langfuse_fake.url,
            langfuse_fake.public_key,
            langfuse_fake.secret_key,
            LANGFUSE_FLUSH_INTERVAL_SECONDS=0.1,
            LANGFUSE_TIMEOUT_SECONDS=10,
        ),
    )
    assert len(traced) == 3
    langfuse_fake.faults.latency = 0.0
    await flush()
    assert langfuse_fake.traces()  # the spans still arrive once Langfuse answers
