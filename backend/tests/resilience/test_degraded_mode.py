"""Fallback chains and circuit breakers end to end: who answered, and that users can see it."""

import asyncio
import time
from typing import Any

from prometheus_client import REGISTRY

from app.core.config import ModelSpec, Settings, settings
from tests.fakes.llm_script import error, hang, text
from tests.resilience.conftest import primary_with_fallback, stub_chain
from tests.support.sse import collect_sse
from tests.utils import API, create_user_and_login

PRIMARY = "openai:stub-model"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_chain_keeps_the_old_settings_meaning() -> None:
    config = Settings(
        LLM_MODEL_PROVIDER="openai",
        LLM_MODEL_NAME="gpt-a",
        LLM_FALLBACK_MODEL_NAME="gpt-b",
        LLM_TIMEOUT_SECONDS=7,
        LLM_MAX_RETRIES=2,
        LLM_FALLBACK_MODELS=[{"provider": "anthropic", "model": "claude-c", "max_retries": 0}],
    )
    chain = config.model_chain
    assert [(s.provider, s.model) for s in chain] == [
        ("openai", "gpt-a"),
        ("openai", "gpt-b"),
        ("anthropic", "claude-c"),
    ]
    assert [(s.timeout_seconds, s.max_retries) for s in chain] == [(7, 2), (7, 2), (7, 0)]
    assert Settings(LLM_MODEL_PROVIDER="offline").model_chain == [
        ModelSpec(provider="offline", model="offline-demo", timeout_seconds=60.0, max_retries=3)
    ]


async def test_a_fallback_answer_is_degraded_everywhere(
    agent_settings: Any, openai_stub: Any, app_client: Any
) -> None:
    agent_settings(**primary_with_fallback(openai_stub))
    openai_stub.set_responder(lambda body: error(500) if body["model"] == "stub-model" else None)
    before = sample("agent_degraded_runs_total", reason="fallback")
    fallbacks = sample(
        "llm_fallback_total", from_model="stub-model", to_model="stub-fallback", reason="fallback"
    )
    async with app_client() as ac:
        headers, _ = await create_user_and_login(ac.http)
        done = await ac.http.post(f"{API}/agent/run", json={"message": "hi"}, headers=headers)
        assert done.status_code == 200, done.text
        result = done.json()
        assert (result["status"], result["mode"], result["degraded_reason"], result["model"]) == (
            "success",
            "degraded",
            "fallback",
            "stub-fallback",
        )
        async with ac.http.stream(
            "POST", f"{API}/agent/run/stream", json={"message": "hi"}, headers=headers
        ) as response:
            events = await collect_sse(response)
        completed = events[-1]
        assert completed["type"] == "run_completed"
        assert (completed["mode"], completed["model"]) == ("degraded", "stub-fallback")
        stored = (await ac.http.get(f"{API}/agent/runs/{result['run_id']}", headers=headers)).json()
        assert (stored["mode"], stored["degraded_reason"], stored["model"]) == (
            "degraded",
            "fallback",
            "stub-fallback",
        )
        base = settings.AGENT_PROTOCOL_PATH
        thread = (await ac.http.post(f"{base}/threads", json={}, headers=headers)).json()
        body = {"assistant_id": "agent", "input": {"messages": [{"role": "user", "content": "x"}]}}
        waited = await ac.http.post(
            f"{base}/threads/{thread['thread_id']}/runs/wait", json=body, headers=headers
        )
        run_id = waited.headers["content-location"].rstrip("/").split("/")[-1]
        protocol_run = (
            await ac.http.get(
                f"{base}/threads/{thread['thread_id']}/runs/{run_id}", headers=headers
            )
        ).json()
        assert protocol_run["metadata"]["mode"] == "degraded"
        assert protocol_run["metadata"]["model"] == "stub-fallback"
    assert sample("agent_degraded_runs_total", reason="fallback") - before == 3
    assert (
        sample(
            "llm_fallback_total",
            from_model="stub-model",
            to_model="stub-fallback",
            reason="fallback",
        )
        - fallbacks
        == 6  # planner and executor of three runs
    )


async def test_a_normal_run_says_so(agent_settings: Any, openai_stub: Any, app_client: Any) -> None:
    agent_settings(**stub_chain(openai_stub, LLM_FALLBACK_MODEL_NAME="stub-fallback"))
    async with app_client() as ac:
        headers, _ = await create_user_and_login(ac.http)
        result = (
            await ac.http.post(f"{API}/agent/run", json={"message": "hi"}, headers=headers)
        ).json()
    assert (result["mode"], result["degraded_reason"], result["model"]) == (
        "normal",
        None,
        "stub-model",
    )


async def test_an_open_breaker_skips_the_primary_at_once_then_one_probe_closes_it(
    agent_settings: Any, openai_stub: Any, app_client: Any
) -> None:
    agent_settings(
        **stub_chain(
            openai_stub,
            LLM_FALLBACK_MODEL_NAME="stub-fallback",
            LLM_BREAKER_FAILURE_THRESHOLD=2,
            LLM_BREAKER_COOLDOWN_SECONDS=1.0,
        )
    )
    healthy = False

    def respond(body: dict[str, Any]) -> Any:
        if body["model"] == "stub-model" and not healthy:
            return hang(30)  # the client's 1 s timeout, twice (one retry)
        return None

    openai_stub.set_responder(respond)
    async with app_client() as ac:
        headers, _ = await create_user_and_login(ac.http)
        first = await ac.http.post(f"{API}/agent/run", json={"message": "a"}, headers=headers)
        assert first.json()["degraded_reason"] == "timeout", first.text
        assert ac.agent.models.breakers.last_state(PRIMARY).name == "OPEN"
        openai_stub.script.requests.clear()
        for _ in range(3):
            started = time.perf_counter()
            run = await ac.http.post(f"{API}/agent/run", json={"message": "b"}, headers=headers)
            assert time.perf_counter() - started < 2.0
            assert (run.json()["model"], run.json()["degraded_reason"]) == (
                "stub-fallback",
                "breaker_open",
            )
        assert [r["model"] for r in openai_stub.requests if r["model"] == "stub-model"] == []
        healthy = True
        await asyncio.sleep(1.1)  # the cool-down
        openai_stub.script.requests.clear()
        probe = await ac.http.post(f"{API}/agent/run", json={"message": "c"}, headers=headers)
        # The planner's call was the probe; it closed the breaker, so the executor used it too.
        assert (probe.json()["mode"], probe.json()["model"]) == ("normal", "stub-model")
        assert [r["model"] for r in openai_stub.requests] == ["stub-model", "stub-model"]
        assert ac.agent.models.breakers.last_state(PRIMARY).name == "CLOSED"
        assert sample("llm_breaker_state", provider="openai", model="stub-model") == 0


async def test_the_call_deadline_leaves_the_fallback_its_time(
    agent_settings: Any, openai_stub: Any, app_client: Any
) -> None:
    """The issue's measured case: a hanging primary with a 5 s timeout and 3 retries took
    22.9 s to fail per call. With a 4 s call deadline the primary gets half of it."""
    agent_settings(
        **stub_chain(
            openai_stub,
            LLM_TIMEOUT_SECONDS=5.0,
            LLM_MAX_RETRIES=3,
            LLM_CALL_DEADLINE_SECONDS=4.0,
            LLM_BREAKER_ENABLED=False,
            LLM_FALLBACK_MODEL_NAME="stub-fallback",
        )
    )
    openai_stub.set_responder(lambda body: hang(30) if body["model"] == "stub-model" else None)
    async with app_client() as ac:
        headers, _ = await create_user_and_login(ac.http)
        started = time.perf_counter()
        run = await ac.http.post(f"{API}/agent/run", json={"message": "hi"}, headers=headers)
        elapsed = time.perf_counter() - started
    assert run.status_code == 200, run.text
    assert (run.json()["model"], run.json()["degraded_reason"]) == ("stub-fallback", "timeout")
    assert 3.5 < elapsed < 8.0  # two calls (planner, executor), ~2 s of primary each


async def test_the_run_timeout_bounds_every_model_call(
    agent_settings: Any, openai_stub: Any, app_client: Any
) -> None:
    agent_settings(
        **stub_chain(
            openai_stub,
            LLM_TIMEOUT_SECONDS=30.0,
            LLM_MAX_RETRIES=0,
            LLM_BREAKER_ENABLED=False,
            AGENT_RUN_TIMEOUT_SECONDS=1.5,
        )
    )
    openai_stub.set_responder(lambda body: hang(30))
    async with app_client() as ac:
        headers, _ = await create_user_and_login(ac.http)
        started = time.perf_counter()
        run = await ac.http.post(f"{API}/agent/run", json={"message": "hi"}, headers=headers)
    assert run.status_code == 504 and run.json()["code"] == "model_timeout", run.text
    assert time.perf_counter() - started < 5.0


async def test_fallback_to_another_provider(
    agent_settings: Any, openai_stub: Any, anthropic_stub: Any, app_client: Any
) -> None:
    agent_settings(
        **stub_chain(
            openai_stub,
            ANTHROPIC_API_KEY="test",
            LLM_FALLBACK_MODELS=[
                ModelSpec(provider="anthropic", model="claude-stub", base_url=anthropic_stub.url)
            ],
        )
    )
    openai_stub.set_responder(lambda body: error(503))
    anthropic_stub.set_responder(lambda body: None if body.get("tools") else text("From Claude."))
    async with app_client() as ac:
        headers, _ = await create_user_and_login(ac.http)
        run = await ac.http.post(f"{API}/agent/run", json={"message": "hi"}, headers=headers)
    assert run.status_code == 200, run.text
    assert (run.json()["model"], run.json()["mode"]) == ("claude-stub", "degraded")
    assert anthropic_stub.requests
