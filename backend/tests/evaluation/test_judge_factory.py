"""The judge's model comes from the agent's factory (any provider); one price table."""

from typing import Any

import pytest

from app.agents.llm import judge_config, judge_provider
from app.core.config import settings
from app.core.pricing import cost_usd, price_per_million
from app.evaluation import EvaluationOptions, Evaluator
from app.evaluation.errors import JudgeConfigurationError
from app.evaluation.judge import build_judge, resolve_judge_kind
from app.evaluation.offline_judge import OfflineJudge
from app.evaluation.schemas import TraceRecord
from tests.fakes.anthropic_server import AnthropicStub
from tests.fakes.llm_script import Usage, structured
from tests.fakes.openai_server import OpenAIStub


class OneTrace:
    """A single in-memory trace."""

    name = "memory"

    async def pages(self) -> Any:
        yield [
            TraceRecord(
                trace_id="t1", input="show my items", output="apples", has_langfuse_trace=False
            )
        ]


async def evaluate(judge_kind: str = "llm") -> dict[str, Any]:
    evaluator = Evaluator(
        EvaluationOptions(metrics=["helpfulness"], judge=judge_kind),  # type: ignore[arg-type]
        langfuse=None,
        source=OneTrace(),
        use_database=False,
    )
    return await evaluator.run(generate_report_file=False)


def test_provider_resolution_and_the_offline_mode(set_settings: Any) -> None:
    set_settings(EVALUATION_PROVIDER=None, EVALUATION_API_KEY=None, EVALUATION_BASE_URL=None)
    assert judge_provider(settings) == "offline" and resolve_judge_kind("auto") == "offline"
    assert isinstance(build_judge("auto"), OfflineJudge)
    with pytest.raises(JudgeConfigurationError, match="EVALUATION_API_KEY"):
        build_judge("llm")
    set_settings(EVALUATION_PROVIDER="anthropic", ANTHROPIC_API_KEY=None)
    with pytest.raises(JudgeConfigurationError, match="ANTHROPIC_API_KEY"):
        build_judge("auto")
    set_settings(EVALUATION_PROVIDER=None, EVALUATION_BASE_URL="http://127.0.0.1:9/v1")
    config = judge_config(settings)
    assert config.llm_provider == "openai" and config.LLM_TEMPERATURE == 0.0
    assert config.OPENAI_BASE_URL == "http://127.0.0.1:9/v1" and config.OPENAI_API_KEY is None
    assert config.LLM_MAX_RETRIES == 0  # the judge's own retry policy owns retries


async def test_openai_compatible_judge_counts_tokens_and_prices_them(
    judge_stub: OpenAIStub,
) -> None:
    judge_stub.set_responder(
        lambda body: structured(
            {"reasoning": "direct", "score": 0.9}, usage=Usage(1_000_000, 1_000_000)
        )
    )
    report = await evaluate()
    assert report["metrics_summary"]["helpfulness"]["success_count"] == 1
    usage = report["judge_usage"]
    assert usage["cost_known"] and usage["cost_usd"] == pytest.approx(0.75)  # gpt-4o-mini


async def test_anthropic_judge_through_the_same_factory(
    anthropic_stub: AnthropicStub, set_settings: Any
) -> None:
    set_settings(
        EVALUATION_PROVIDER="anthropic",
        EVALUATION_API_KEY="sk-ant-test",
        EVALUATION_BASE_URL=anthropic_stub.url,
        EVALUATION_LLM="claude-haiku-4-5",
        EVALUATION_SLEEP_TIME=0.0,
    )
    anthropic_stub.set_responder(lambda body: structured({"reasoning": "fine", "score": 0.8}))
    report = await evaluate("auto")
    assert report["judge"] == "llm" and report["model"] == "claude-haiku-4-5"
    summary = report["metrics_summary"]["helpfulness"]
    assert summary["success_count"] == 1 and summary["avg_score"] == 0.8
    request = anthropic_stub.requests[-1]
    assert request["tool_choice"] == {"type": "tool", "name": "JudgeVerdict"}


async def test_unpriced_judge_model_reports_unknown_cost(
    judge_stub: OpenAIStub, set_settings: Any
) -> None:
    set_settings(EVALUATION_LLM="my-local-judge")
    judge_stub.set_responder(lambda body: structured({"reasoning": "ok", "score": 0.7}))
    report = await evaluate()
    assert report["judge_usage"]["cost_usd"] is None
    assert report["judge_usage"]["cost_known"] is False


def test_one_price_table_for_every_caller(set_settings: Any) -> None:
    million = 1_000_000
    assert cost_usd("openai/gpt-4o-mini", million, million) == pytest.approx(0.75)
    assert cost_usd("claude-haiku-4-5", million, 0) == pytest.approx(1.0)
    assert cost_usd("offline-demo", million, million) == 0.0
    assert cost_usd("my-local-judge", 10, 10) is None
    set_settings(LLM_PRICES_JSON={"my-local": {"input": 1.0, "output": 2.0}})
    assert price_per_million("my-local-judge") == {"input": 1.0, "output": 2.0}
