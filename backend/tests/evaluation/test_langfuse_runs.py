"""Evaluation over the fake Langfuse with the OpenAI-compatible judge stub."""

import json
import uuid
from typing import Any

import pytest
from sqlmodel import select

from app.core.db import SessionMaker
from app.evaluation import EvaluationError, EvaluationOptions, Evaluator
from app.evaluation.metrics import load_metrics
from app.evaluation.outputs import score_id
from app.models import AgentEvaluation
from tests.evaluation.helpers import create_run, metric_of, seed_traces, trace_of
from tests.fakes.langfuse import LangfuseFake
from tests.fakes.llm_script import error, structured
from tests.fakes.openai_server import OpenAIStub
from tests.utils import create_user


def observation_pages(fake: LangfuseFake) -> list[Any]:
    """GET /api/public/v2/observations requests the evaluator made."""
    return [
        r for r in fake.requests if r.method == "GET" and r.path == "/api/public/v2/observations"
    ]


async def test_more_than_100_traces_across_pages_then_nothing_new(
    langfuse_on: LangfuseFake, reports_dir: Any
) -> None:
    trace_ids = seed_traces(langfuse_on, 130)
    options = EvaluationOptions(metrics=["helpfulness", "toxicity"], judge="offline")

    first = await Evaluator(options).run(generate_report_file=False)

    assert first["total_traces"] == 130 and first["failed_traces"] == 0
    assert len(observation_pages(langfuse_on)) >= 2  # paged with the cursor, no cap at 100
    assert any("cursor=" in r.query for r in observation_pages(langfuse_on))
    assert first["judge"] == "offline" and first["model"] == "offline"
    scores = langfuse_on.scores()
    assert len(scores) == 260
    assert {(s.trace_id, s.name) for s in scores} == {
        (t, m) for t in trace_ids for m in ("helpfulness", "toxicity")
    }
    posts_after_first = len(langfuse_on.score_posts())
    assert posts_after_first > 0

    second = await Evaluator(options).run(generate_report_file=False)

    assert second["total_traces"] == 0 and second["skipped_traces"] == 130
    assert second["metrics_summary"]["helpfulness"]["skipped_count"] == 130
    assert len(langfuse_on.score_posts()) == posts_after_first  # nothing new uploaded
    assert len(langfuse_on.scores()) == 260
    assert not list(reports_dir.glob("*.json"))  # generate_report_file=False wrote nothing


async def test_scores_carry_reasoning_metadata_and_deterministic_ids(
    langfuse_on: LangfuseFake, judge_stub: OpenAIStub, reports_dir: Any
) -> None:
    user, _ = await create_user()
    [trace_id] = seed_traces(langfuse_on, 1)
    run = await create_run(user.id, trace_id=trace_id)
    unsupported = {"claim": "You have 0 items", "evidence": "", "verdict": "unsupported"}
    judge_stub.set_responder(
        lambda body: structured(
            {"claims": [unsupported], "reasoning": "checked hallucination"}
            if metric_of(body) == "hallucination"
            else {"reasoning": f"checked {metric_of(body)}", "score": 0.8}
        )
    )

    report = await Evaluator(EvaluationOptions(metrics=["relevancy", "hallucination"])).run()

    assert report["model"] == "gpt-4o-mini" and report["judge"] == "llm"
    by_name = {s.name: s for s in langfuse_on.scores(trace_id)}
    assert set(by_name) == {"relevancy", "hallucination"}
    relevancy = by_name["relevancy"]
    version = load_metrics()["relevancy"].version
    assert (
        relevancy.id
        == score_id(trace_id, "relevancy", "gpt-4o-mini", version)
        == str(
            uuid.uuid5(
                uuid.UUID("6f1d8a52-33c4-4d8e-9a51-0c8f3e2b7a10"),
                f"{trace_id}:relevancy:gpt-4o-mini:{version}",
            )
        )
    )
    assert relevancy.data_type == "NUMERIC" and relevancy.numeric == 0.8
    assert relevancy.comment == "checked relevancy"
    assert relevancy.metadata["judge_model"] == "gpt-4o-mini"
    assert relevancy.metadata["prompt_version"] == version and relevancy.metadata["passed"] is True
    assert relevancy.metadata["producer"] == "agent-eval"
    assert by_name["hallucination"].metadata["passed"] is False  # 1/1 unsupported > 0.3
    assert by_name["hallucination"].numeric == 1.0

    async with SessionMaker() as session:
        rows = (
            await session.exec(select(AgentEvaluation).where(AgentEvaluation.run_id == run.id))
        ).all()
    stored = {row.metric_name: row for row in rows}
    assert set(stored) == {"relevancy", "hallucination"}
    assert stored["relevancy"].score == 0.8
    assert stored["relevancy"].eval_metadata["reasoning"] == "checked relevancy"
    assert stored["relevancy"].eval_metadata["judge_model"] == "gpt-4o-mini"
    assert stored["hallucination"].eval_metadata["passed"] is False

    # The judge saw reasoning-before-score in the tool schema it was forced to call.
    request = next(r for r in judge_stub.requests if metric_of(r) == "relevancy")
    tool = request["tools"][0]["function"]
    assert list(tool["parameters"]["properties"]) == ["reasoning", "score"]
    assert request["tool_choice"]["function"]["name"] == "JudgeVerdict"

    # --rescore judges again and overwrites the same score ids (no duplicates, no new rows).
    judge_stub.set_responder(lambda body: structured({"reasoning": "again", "score": 0.4}))
    again = await Evaluator(EvaluationOptions(metrics=["relevancy"], rescore=True)).run()
    assert again["total_traces"] == 1
    scores = langfuse_on.scores(trace_id)
    assert len(scores) == 2 and {s.comment for s in scores if s.name == "relevancy"} == {"again"}
    async with SessionMaker() as session:
        rows = (
            await session.exec(select(AgentEvaluation).where(AgentEvaluation.run_id == run.id))
        ).all()
    assert len(rows) == 2 and {r.score for r in rows if r.metric_name == "relevancy"} == {0.4}
    report_file = json.loads(next(reports_dir.glob("evaluation_*.json")).read_text())
    assert report_file["metrics_summary"]["relevancy"]["success_count"] == 1


async def test_a_score_we_did_not_write_never_counts_as_already_scored(
    langfuse_on: LangfuseFake, reports_dir: Any
) -> None:
    trace_ids = seed_traces(langfuse_on, 3)
    client_scores_before = len(langfuse_on.scores())
    from app.core.telemetry import get_langfuse

    client = get_langfuse()
    assert client is not None
    # Named like a metric, but a human's (or another tool's): no producer/judge/version metadata.
    client.create_score(name="toxicity", value=0.0, trace_id=trace_ids[0], data_type="NUMERIC")
    client.flush()
    langfuse_on.wait_for(lambda: len(langfuse_on.scores()) == client_scores_before + 1)

    options = EvaluationOptions(metrics=["toxicity", "conciseness"], judge="offline")
    report = await Evaluator(options).run(generate_report_file=False)

    assert report["total_traces"] == 3
    assert report["metrics_summary"]["toxicity"]["success_count"] == 3
    assert report["metrics_summary"]["toxicity"]["skipped_count"] == 0
    assert report["metrics_summary"]["conciseness"]["success_count"] == 3

    # Our own scores do count: a second run has nothing left to judge.
    langfuse_on.wait_for(lambda: len(langfuse_on.scores()) == client_scores_before + 7)
    again = await Evaluator(options).run(generate_report_file=False)
    assert again["metrics_summary"]["toxicity"]["skipped_count"] == 3
    assert again["metrics_summary"]["toxicity"]["window_scores"] == 3


async def test_rate_limit_then_success_is_retried(
    langfuse_on: LangfuseFake, judge_stub: OpenAIStub, reports_dir: Any
) -> None:
    seed_traces(langfuse_on, 2)
    judge_stub.enqueue(error(429, "slow down", retry_after=0.05), error(503, "overloaded"))
    judge_stub.set_responder(lambda body: structured({"reasoning": "fine", "score": 0.9}))

    report = await Evaluator(EvaluationOptions(metrics=["helpfulness"], concurrency=1)).run(
        generate_report_file=False
    )

    assert report["failed_traces"] == 0 and report["successful_traces"] == 2
    assert len(judge_stub.requests) == 4  # two judgments, one 429 and one 503 retried
    attempts = sorted(
        d["metrics_results"]["helpfulness"]["attempts"] for d in report["successful_traces_details"]
    )
    assert attempts == [1, 3]
    assert report["judge_usage"]["calls"] == 4 and report["judge_usage"]["judgments"] == 2


async def test_retries_give_up_and_fail_only_that_judgment(
    langfuse_on: LangfuseFake, judge_stub: OpenAIStub, set_settings: Any, reports_dir: Any
) -> None:
    set_settings(EVALUATION_MAX_RETRIES=2)
    seed_traces(langfuse_on, 1)
    judge_stub.set_responder(
        lambda body: (
            error(500, "boom")
            if metric_of(body) == "relevancy"
            else structured({"reasoning": "ok", "score": 0.9})
        )
    )
    report = await Evaluator(EvaluationOptions(metrics=["relevancy", "helpfulness"])).run(
        generate_report_file=False
    )
    summary = report["metrics_summary"]
    assert (
        summary["relevancy"]["failure_count"] == 1 and summary["helpfulness"]["success_count"] == 1
    )
    result = report["failed_traces_details"][0]["metrics_results"]["relevancy"]
    assert result["attempts"] == 3 and "500" in result["error"]
    assert [s.name for s in langfuse_on.scores()] == ["helpfulness"]


@pytest.mark.parametrize(
    "bad_answer",
    [
        {"reasoning": "way too high", "score": 7},  # out of range
        {"score": 0.5},  # no reasoning
        '{"reasoning": "cut off", "sco',  # invalid JSON arguments
    ],
    ids=["out-of-range", "missing-field", "invalid-json"],
)
async def test_a_malformed_answer_fails_one_metric_while_others_succeed(
    langfuse_on: LangfuseFake, judge_stub: OpenAIStub, reports_dir: Any, bad_answer: Any
) -> None:
    from tests.fakes.llm_script import tool_call

    seed_traces(langfuse_on, 2, prefix="m")

    def respond(body: dict[str, Any]) -> Any:
        if metric_of(body) == "conciseness" and trace_of(body).startswith("m 0"):
            return tool_call("JudgeVerdict", bad_answer)
        return structured({"reasoning": "fine", "score": 0.9})

    judge_stub.set_responder(respond)
    metrics = ["conciseness", "helpfulness", "relevancy"]
    report = await Evaluator(EvaluationOptions(metrics=metrics)).run(generate_report_file=False)

    summary = report["metrics_summary"]
    assert (
        summary["conciseness"]["failure_count"] == 1
        and summary["conciseness"]["success_count"] == 1
    )
    assert (
        summary["helpfulness"]["success_count"] == 2 and summary["relevancy"]["success_count"] == 2
    )
    assert report["failed_traces"] == 1 and report["successful_traces"] == 1
    failed = report["failed_traces_details"][0]["metrics_results"]
    assert (
        failed["conciseness"]["success"] is False and "malformed" in failed["conciseness"]["error"]
    )
    assert failed["helpfulness"]["success"] is True
    assert len(langfuse_on.scores()) == 5  # the failed judgment uploaded nothing


async def test_tag_name_and_limit_filters(langfuse_on: LangfuseFake, reports_dir: Any) -> None:
    prod = seed_traces(langfuse_on, 3, tags=["prod"], prefix="p")
    seed_traces(langfuse_on, 2, tags=["dev"], prefix="d")
    base = {"metrics": ["toxicity"], "judge": "offline"}

    tagged = await Evaluator(EvaluationOptions(tags=["prod"], **base)).plan()
    assert sorted(i["trace_id"] for i in tagged["items"]) == sorted(prod)
    assert tagged["estimated_judge_calls"] == 3

    limited = await Evaluator(EvaluationOptions(limit=4, **base)).plan()
    assert limited["traces_seen"] == 4
    named = await Evaluator(EvaluationOptions(name="agent_run", tags=["dev"], **base)).plan()
    assert named["traces_seen"] == 2  # the trace's name, not the root observation's
    nothing = await Evaluator(EvaluationOptions(name="other_trace_name", **base)).plan()
    assert nothing["traces_seen"] == 0
    assert langfuse_on.scores() == []  # a plan judges and uploads nothing


async def test_unreachable_langfuse_is_an_evaluation_error(
    langfuse_on: LangfuseFake, set_settings: Any, reports_dir: Any
) -> None:
    from tests.fakes.background import closed_port

    set_settings(LANGFUSE_BASE_URL=f"http://127.0.0.1:{closed_port()}", LANGFUSE_TIMEOUT_SECONDS=1)
    with pytest.raises(EvaluationError, match="reading traces failed"):
        await Evaluator(EvaluationOptions(judge="offline")).run()
    assert not list(reports_dir.glob("*.json"))
