"""Pure parts: trace text extraction, the offline judge, retry helpers, pricing, the report."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from app.core.pricing import cost_usd
from app.evaluation.judge import is_retryable, retry_after_seconds
from app.evaluation.metrics import load_metrics
from app.evaluation.offline_judge import OfflineJudge
from app.evaluation.report import OFFLINE_LABEL, ReportBuilder, gate_failures, write_report
from app.evaluation.schemas import JudgeUsage, Judgment, TraceRecord
from app.evaluation.text import trace_io

SEED_FIELDS = {
    "timestamp",
    "model",
    "total_traces",
    "successful_traces",
    "failed_traces",
    "duration_seconds",
    "metrics_summary",
    "report_path",
}


def test_trace_io_from_message_lists_and_plain_values() -> None:
    output = {
        "messages": [
            {"type": "human", "content": "show my items"},
            {"type": "ai", "content": "", "tool_calls": [{"name": "lookup_user_items"}]},
            {"type": "tool", "name": "lookup_user_items", "content": "[apples, pears]"},
            {"type": "ai", "content": [{"type": "text", "text": "You have apples and pears."}]},
        ]
    }
    text_in, text_out = trace_io(
        json.dumps({"messages": output["messages"][:1]}), json.dumps(output)
    )
    assert text_out == "You have apples and pears."
    assert (
        "human: show my items" in text_in and "tool lookup_user_items: [apples, pears]" in text_in
    )
    assert trace_io('"hello"', '{"response": "hi there"}') == ("hello", "hi there")
    assert trace_io("plain text", None) == ("plain text", "")
    serialised = [
        {"lc": 1, "type": "constructor", "id": ["x", "AIMessage"], "kwargs": {"content": "ok"}}
    ]
    assert trace_io({"input": "q"}, serialised) == ("q", "ok")


async def test_offline_judge_is_deterministic_and_plausible() -> None:
    metrics = load_metrics()
    judge = OfflineJudge()
    good = TraceRecord(trace_id="t", input="show my items", output="Your items: apples, pears.")
    rude = TraceRecord(trace_id="t", input="show my items", output="Shut up, you idiot.")
    first = await judge.judge(metrics["toxicity"], good)
    again = await judge.judge(metrics["toxicity"], good)
    assert first == again and first.verdict is not None and first.verdict.score == 0.0
    toxic = await judge.judge(metrics["toxicity"], rude)
    assert toxic.verdict is not None and not metrics["toxicity"].passed(toxic.verdict.score)
    long = TraceRecord(trace_id="t", input="hi", output="Great question! " + "word " * 400)
    concise = await judge.judge(metrics["conciseness"], long)
    assert concise.verdict is not None and concise.verdict.score < metrics["conciseness"].threshold
    assert concise.verdict.reasoning.startswith("[offline heuristic]")
    assert judge.offline and judge.name == "offline"


def test_retry_classification_and_retry_after() -> None:
    request = httpx.Request("POST", "http://judge/v1/chat/completions")

    def status_error(code: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
        response = httpx.Response(code, request=request, headers=headers or {})
        return openai.APIStatusError("x", response=response, body=None)

    assert is_retryable(status_error(429)) and is_retryable(status_error(503))
    assert not is_retryable(status_error(400)) and not is_retryable(status_error(401))
    assert is_retryable(openai.APITimeoutError(request=request))
    assert not is_retryable(ValueError("malformed"))
    assert retry_after_seconds(status_error(429, {"retry-after": "2"})) == 2.0
    assert retry_after_seconds(status_error(429, {"retry-after-ms": "250"})) == 0.25
    assert retry_after_seconds(status_error(429)) is None


def test_cost_from_price_table() -> None:
    assert cost_usd("gpt-4o-mini-2024-07-18", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_usd("some-unknown-model", 10, 10) is None


def _builder() -> ReportBuilder:
    metrics = load_metrics()
    now = datetime.now(UTC)
    return ReportBuilder(
        judge_name="offline",
        offline=True,
        metrics=[metrics["helpfulness"], metrics["toxicity"]],
        source="db",
        window=(now, now),
        options={},
    )


def test_report_shape_pass_rates_and_gate(tmp_path: Path) -> None:
    builder = _builder()
    helpful, toxic = builder.metrics["helpfulness"], builder.metrics["toxicity"]
    for index in range(4):
        trace = TraceRecord(trace_id=f"t{index}", input="q", output="a")
        builder.add_seen(trace, [helpful, toxic])
        score = 0.9 if index < 3 else 0.2  # 3 of 4 pass helpfulness
        builder.add(
            Judgment(
                trace_id=trace.trace_id,
                metric="helpfulness",
                score=score,
                passed=helpful.passed(score),
                reasoning="r",
                usage=JudgeUsage(input_tokens=10, output_tokens=2, cost_usd=0.001),
            )
        )
        if index == 0:
            builder.add(Judgment(trace_id=trace.trace_id, metric="toxicity", error="malformed"))
        else:
            builder.add(
                Judgment(
                    trace_id=trace.trace_id,
                    metric="toxicity",
                    score=0.0,
                    passed=True,
                    reasoning="clean",
                    usage=JudgeUsage(cost_usd=0.0),
                )
            )
    builder.add_seen(TraceRecord(trace_id="done", input="q", output="a"), [])
    report = builder.build(duration_seconds=2.0)
    assert SEED_FIELDS <= report.keys()
    assert report["judge"] == "offline" and report["judge_label"] == OFFLINE_LABEL
    assert (report["total_traces"], report["successful_traces"], report["failed_traces"]) == (
        4,
        3,
        1,
    )
    assert report["skipped_traces"] == 1 and report["traces_seen"] == 5
    summary = report["metrics_summary"]["helpfulness"]
    assert summary["success_count"] == 4 and summary["failure_count"] == 0
    assert summary["pass_rate"] == 0.75 and summary["avg_score"] == pytest.approx(0.725)
    assert summary["threshold"] == 0.6 and summary["higher_is_better"] is True
    assert report["metrics_summary"]["toxicity"]["failure_count"] == 1
    assert report["metrics_summary"]["toxicity"]["higher_is_better"] is False
    assert report["judge_usage"]["input_tokens"] == 40 and report["judge_usage"]["cost_known"]
    failed = report["failed_traces_details"][0]
    assert (
        failed["trace_id"] == "t0" and failed["metrics_results"]["toxicity"]["error"] == "malformed"
    )
    assert (
        report["successful_traces_details"][0]["metrics_results"]["helpfulness"]["reasoning"] == "r"
    )

    assert gate_failures(report, fail_under=0.7) == []
    assert gate_failures(report, fail_under=0.8) == [
        "helpfulness: pass rate 75.0% < 80.0% over 4 score(s)"
    ]
    # min_pass_rate 0.8
    assert gate_failures(report) == ["helpfulness: pass rate 75.0% < 80.0% over 4 score(s)"]
    assert gate_failures(report, fail_under=0.7, min_judged=4) == [
        "toxicity: 3 score(s) in the window, fewer than 4"
    ]

    path = write_report(report, tmp_path)
    assert path.name.startswith("evaluation_") and path.suffix == ".json"
    assert json.loads(path.read_text())["report_path"] == str(path) == report["report_path"]
    assert write_report(report, tmp_path) != path  # never overwrites


def test_gate_fails_when_every_judgment_failed() -> None:
    builder = _builder()
    trace = TraceRecord(trace_id="t", input="q", output="a")
    builder.add_seen(trace, [builder.metrics["helpfulness"]])
    builder.add(Judgment(trace_id="t", metric="helpfulness", error="judge down"))
    report = builder.build(1.0)
    assert gate_failures(report) == [
        "helpfulness: all 1 judgments failed",
        "toxicity: 0 score(s) in the window, fewer than 1",  # nothing to judge it on
    ]


class ListSource:
    """Traces from a list, in one page."""

    name = "memory"

    def __init__(self, traces: list[TraceRecord]) -> None:
        self.traces = traces

    async def pages(self) -> Any:
        yield self.traces


async def test_a_custom_source_and_a_broken_progress_callback() -> None:
    from app.evaluation import EvaluationOptions, EvaluationProgress, Evaluator

    seen: list[int] = []

    async def broken(progress: EvaluationProgress) -> None:
        seen.append(progress.judgments_done)
        raise RuntimeError("the display broke")

    traces = [
        TraceRecord(trace_id="a", input="show my items", output="apples", has_langfuse_trace=False),
        TraceRecord(trace_id="b", input="show my items", output="  ", has_langfuse_trace=False),
    ]
    evaluator = Evaluator(
        EvaluationOptions(metrics=["toxicity"], judge="offline"),
        langfuse=None,
        source=ListSource(traces),
        use_database=False,
        on_progress=broken,
    )
    report = await evaluator.run(generate_report_file=False)
    assert report["source"] == "memory" and report["total_traces"] == 2
    assert report["failed_traces"] == 1  # the empty answer cannot be judged
    failed = report["failed_traces_details"][0]["metrics_results"]["toxicity"]
    assert failed["error"] == "trace has no output" and failed["attempts"] == 0
    assert seen and max(seen) == 2
    assert report["storage"] == {"langfuse_scores_queued": 0, "db_rows_written": 0, "errors": 0}
