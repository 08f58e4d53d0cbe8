"""The Langfuse trace of a degraded run says so: the fallback generation and the outcome."""

import asyncio
from typing import Any

from app.core import telemetry
from tests.fakes.llm_script import error
from tests.resilience.conftest import stub_chain
from tests.utils import API, create_user_and_login


async def test_the_trace_carries_mode_reason_and_the_model_that_answered(
    agent_settings: Any,
    openai_stub: Any,
    app_client: Any,
    langfuse_fake: Any,
    enable_tracing: Any,
) -> None:
    agent_settings(**stub_chain(openai_stub, LLM_FALLBACK_MODEL_NAME="stub-fallback"))
    enable_tracing(langfuse_fake.url, langfuse_fake.public_key, langfuse_fake.secret_key)
    openai_stub.set_responder(lambda body: error(500) if body["model"] == "stub-model" else None)
    async with app_client() as ac:
        headers, _ = await create_user_and_login(ac.http)
        run = (
            await ac.http.post(f"{API}/agent/run", json={"message": "hi"}, headers=headers)
        ).json()
    trace_id = run["trace_id"]
    assert trace_id and run["mode"] == "degraded"
    await asyncio.to_thread(telemetry.flush_telemetry)

    def outcome() -> Any:
        return next(
            (o for o in langfuse_fake.observations(trace_id) if o.name == "run_outcome"), None
        )

    event = await langfuse_fake.await_for(outcome)
    assert event.metadata["mode"] == "degraded"
    assert event.metadata["degraded_reason"] == "breaker_open"  # threshold 1: opened at once
    assert event.metadata["answered_by"] == "stub-fallback"
    generations = langfuse_fake.observations(trace_id, type="GENERATION")
    answered = [g for g in generations if g.metadata.get("llm_fallback_from")]
    assert answered and all(
        g.metadata["llm_chain_model"] == "openai:stub-fallback" for g in answered
    )
