"""The LangChain metrics callback against real chat model clients, and the price table."""

from typing import Any

import openai
import pytest
from langchain_openai import ChatOpenAI
from prometheus_client import REGISTRY

from app.agents.offline_model import OfflineChatModel
from app.core import metrics
from app.core.config import settings
from tests.fakes.llm_script import Usage, error, text
from tests.fakes.openai_server import OpenAIStub


def sample(name: str, **labels: str) -> float:
    """The current in-process value of one series (0 when absent)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def openai_client(stub: OpenAIStub, model: str, **kwargs: Any) -> ChatOpenAI:
    return ChatOpenAI(
        model=model,
        base_url=stub.base_url,
        api_key="sk-test",  # type: ignore[arg-type]
        max_retries=0,
        timeout=5,
        stream_usage=True,
        use_responses_api=False,
        **kwargs,
    )


@pytest.mark.parametrize("streaming", [False, True])
async def test_openai_call_counts_tokens_cost_and_latency(
    openai_stub: OpenAIStub, streaming: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A made-up snapshot name of a priced family, priced by an LLM_PRICES_JSON prefix.
    monkeypatch.setattr(
        settings, "LLM_PRICES_JSON", {"gpt-4o-mini-test": {"input": 0.15, "output": 0.60}}
    )
    model = f"gpt-4o-mini-test-{'stream' if streaming else 'plain'}"
    openai_stub.enqueue(text("Hello there", usage=Usage(prompt_tokens=1200, completion_tokens=300)))
    llm = openai_client(openai_stub, model, streaming=streaming)
    await llm.ainvoke("hi", config={"callbacks": metrics.metrics_callbacks()})

    assert sample("llm_requests_total", model=model, status="success") == 1
    assert sample("llm_requests_total", model=model, status="error") == 0
    assert sample("llm_tokens_total", model=model, type="prompt") == 1200
    assert sample("llm_tokens_total", model=model, type="completion") == 300
    # gpt-4o-mini prefix: $0.15 / $0.60 per 1M tokens.
    expected = (1200 * 0.15 + 300 * 0.60) / 1_000_000
    assert sample("llm_cost_dollars_total", model=model) == pytest.approx(expected)
    assert sample("llm_request_duration_seconds_count", model=model) == 1
    ttft = sample("llm_time_to_first_token_seconds_count", model=model)
    assert ttft == (1 if streaming else 0)


async def test_failed_llm_call_is_counted_by_error_type(openai_stub: OpenAIStub) -> None:
    model = "gpt-4o-error-test"
    openai_stub.enqueue(error(500, "boom"))
    llm = openai_client(openai_stub, model)
    with pytest.raises(Exception, match="boom") as raised:
        await llm.ainvoke("hi", config={"callbacks": metrics.metrics_callbacks()})
    error_type = type(raised.value).__name__
    assert isinstance(raised.value, openai.InternalServerError)  # wrapped by langchain-openai
    assert sample("llm_requests_total", model=model, status="error") == 1
    assert sample("llm_requests_total", model=model, status="success") == 0
    assert sample("llm_errors_total", model=model, error_type=error_type) == 1
    assert sample("llm_request_duration_seconds_count", model=model) == 1


async def test_unreachable_provider_is_an_llm_error(closed_port_url: str) -> None:
    model = "gpt-4.1-unreachable-test"
    llm = ChatOpenAI(
        model=model,
        base_url=f"{closed_port_url}/v1",
        api_key="sk-test",  # type: ignore[arg-type]
        max_retries=0,
        timeout=2,
    )
    with pytest.raises(Exception, match="Connection") as raised:
        await llm.ainvoke("hi", config={"callbacks": metrics.metrics_callbacks()})
    error_type = type(raised.value).__name__
    assert isinstance(raised.value, openai.APIConnectionError)
    assert sample("llm_errors_total", model=model, error_type=error_type) == 1
    assert sample("llm_requests_total", model=model, status="error") == 1


async def test_offline_model_usage_and_zero_cost() -> None:
    model = OfflineChatModel(model_name="offline-callback-test")
    message = await model.ainvoke("hello there", config={"callbacks": metrics.metrics_callbacks()})
    usage = message.usage_metadata
    assert usage is not None
    labels = {"model": "offline-callback-test"}
    assert sample("llm_tokens_total", type="prompt", **labels) == usage["input_tokens"]
    assert sample("llm_tokens_total", type="completion", **labels) == usage["output_tokens"]
    assert sample("llm_cost_dollars_total", **labels) == 0


def test_price_table_longest_prefix_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    million = 1_000_000
    assert metrics.llm_cost("gpt-4o-mini-2024-07-18", million, million) == pytest.approx(0.75)
    assert metrics.llm_cost("gpt-4o-2024-08-06", million, million) == pytest.approx(12.5)
    assert metrics.llm_cost("gpt-4o", million, 0) == pytest.approx(2.5)
    # A provider prefix does not hide a known model; unknown models have no price, not $0.
    assert metrics.llm_cost("openai/gpt-4o-mini", million, million) == pytest.approx(0.75)
    assert metrics.llm_cost("some-local-model", million, million) is None
    assert metrics.llm_cost("offline-demo", million, million) == 0
    monkeypatch.setattr(
        settings,
        "LLM_PRICES_JSON",
        {"my-model": {"input": 1.0, "output": 2.0}, "gpt-4o": {"input": 0.0, "output": 0.0}},
    )
    assert metrics.llm_cost("my-model-v2", 500_000, 250_000) == pytest.approx(1.0)
    assert metrics.llm_cost("gpt-4o", million, million) == 0  # the override wins


async def test_unpriced_model_adds_no_cost_and_is_counted_apart(openai_stub: OpenAIStub) -> None:
    model = "my-local-unpriced-test"
    openai_stub.enqueue(text("Hi", usage=Usage(prompt_tokens=10, completion_tokens=2)))
    llm = openai_client(openai_stub, model)
    await llm.ainvoke("hi", config={"callbacks": metrics.metrics_callbacks()})
    assert sample("llm_unpriced_calls_total", model=model) == 1
    assert REGISTRY.get_sample_value("llm_cost_dollars_total", {"model": model}) is None


def test_price_table_from_environment_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.config import Settings

    monkeypatch.setenv("LLM_PRICES_JSON", '{"m": {"input": 3, "output": 4}}')
    assert Settings().LLM_PRICES_JSON == {"m": {"input": 3.0, "output": 4.0}}


@pytest.mark.parametrize(
    ("run_status", "label"),
    [
        ("success", "completed"),
        ("error", "failed"),
        ("timeout", "timeout"),
        ("cancelled", "cancelled"),
        ("interrupted", "cancelled"),
        ("awaiting_approval", "completed"),
        ("something-new", "failed"),
    ],
)
def test_run_status_mapping(run_status: str, label: str) -> None:
    assert metrics.run_status_label(run_status) == label


def test_run_started_and_finished_values() -> None:
    started = sample("agent_invocations_total")
    active = sample("agent_active_executions")
    cancelled = sample("agent_invocations_by_status_total", status="cancelled")
    prompt = sample("agent_tokens_total", type="prompt")
    metrics.run_started()
    assert sample("agent_active_executions") == active + 1
    metrics.run_finished("interrupted", 1.5, 40, 2)
    assert sample("agent_invocations_total") == started + 1
    assert sample("agent_active_executions") == active
    assert sample("agent_invocations_by_status_total", status="cancelled") == cancelled + 1
    assert sample("agent_tokens_total", type="prompt") == prompt + 40
