"""CLI basics: --json is pure JSON, configuration errors are one line and exit 3, failed
judgments show why, unknown averages and costs are null rather than zero."""

import asyncio
import io
import json
import os
import sys
from typing import Any

from rich.console import Console

from app.evaluation.display import print_summary
from app.evaluation.metrics import load_metrics
from app.evaluation.report import ReportBuilder
from app.evaluation.schemas import JudgeUsage, Judgment, TraceRecord
from tests.evaluation.helpers import create_run, now
from tests.evaluation.test_cli import BACKEND_DIR, invoke
from tests.fakes.llm_script import error
from tests.fakes.openai_server import OpenAIStub
from tests.utils import create_user


async def shell(command: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run a shell pipeline from backend/ and return (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_shell(
        command,
        cwd=BACKEND_DIR,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


CLI = f"{sys.executable} -m app.evaluation.cli"


async def test_json_output_is_only_json_and_logs_go_to_stderr(langfuse_off: None) -> None:
    user, _ = await create_user()
    await create_run(user.id, message="show my items")
    env = {"LANGFUSE_ENABLED": "false", "EVALUATION_JUDGE": "offline", "LOG_LEVEL": "INFO"}

    code, stdout, stderr = await shell(
        f"{CLI} --source db --metric relevancy --no-report --json --gate"
        f" | {sys.executable} -m json.tool",
        env,
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["metrics_summary"]["relevancy"]["success_count"] >= 1
    # Progress, the summary, the gate verdict and log lines went to stderr.
    assert "progress:" in stderr and "gate: passed" in stderr
    assert "evaluation.completed" in stderr


async def test_llm_judge_without_a_key_is_one_error_line_and_exit_3(
    langfuse_off: None, set_settings: Any
) -> None:
    set_settings(EVALUATION_API_KEY=None, EVALUATION_BASE_URL=None)
    result = await invoke("--source", "db", "--judge", "llm", "--no-report")
    assert result.exit_code == 3, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and "EVALUATION_API_KEY" in errors[0]
    assert "Traceback" not in result.output


async def test_unreachable_database_is_exit_3_without_a_traceback(closed_port_url: str) -> None:
    port = closed_port_url.rsplit(":", 1)[1]
    env = {
        "LANGFUSE_ENABLED": "false",
        "EVALUATION_JUDGE": "offline",
        "DATABASE_URL": f"postgresql://u:p@127.0.0.1:{port}/nothing",
    }
    code, stdout, stderr = await shell(f"{CLI} --source db --no-report", env)
    assert code == 3, stdout + stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Connection refused" in errors[0]
    assert "Traceback" not in stderr + stdout


async def test_failed_judgments_show_their_reason_count_and_fail_the_gate(
    langfuse_off: None, judge_stub: OpenAIStub, set_settings: Any
) -> None:
    set_settings(EVALUATION_MAX_RETRIES=0)
    user, _ = await create_user()
    for index in range(2):
        await create_run(user.id, message=f"question {index}")
    judge_stub.set_responder(lambda body: error(400, "bad request"))

    result = await invoke("--source", "db", "--metric", "helpfulness", "--no-report", "--gate")

    assert result.exit_code == 1, result.output
    assert "failed=2" in result.output
    assert "failures: 2x judge call failed: OpenAIInvalidRequestError" in result.output
    assert "avg_score=n/a pass_rate=n/a" in result.output
    assert "gate: helpfulness: all 2 judgments failed" in result.output


async def test_json_report_with_everything_failed_has_null_average(
    langfuse_off: None, judge_stub: OpenAIStub, set_settings: Any
) -> None:
    set_settings(EVALUATION_MAX_RETRIES=0)
    user, _ = await create_user()
    await create_run(user.id)
    judge_stub.set_responder(lambda body: error(400, "bad request"))
    result = await invoke("--source", "db", "--metric", "toxicity", "--no-report", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    summary = report["metrics_summary"]["toxicity"]
    assert summary["avg_score"] is None and summary["pass_rate"] is None
    assert summary["failure_reasons"] == {"judge call failed: OpenAIInvalidRequestError": 1}


def _one_metric_builder() -> ReportBuilder:
    metric = load_metrics()["helpfulness"]
    return ReportBuilder(
        judge_name="some-unpriced-model",
        offline=False,
        metrics=[metric],
        source="db",
        window=(now(), now()),
        options={},
    )


def test_unknown_cost_is_null_and_shown_as_unknown() -> None:
    builder = _one_metric_builder()
    metric = builder.metrics["helpfulness"]
    for index, cost in enumerate([0.002, None]):
        trace = TraceRecord(trace_id=f"t{index}", input="q", output="a")
        builder.add_seen(trace, [metric])
        builder.add(
            Judgment(
                trace_id=trace.trace_id,
                metric="helpfulness",
                score=0.9,
                passed=True,
                reasoning="r",
                usage=JudgeUsage(input_tokens=5, output_tokens=1, cost_usd=cost),
            )
        )
    report = builder.build(1.0)
    assert report["judge_usage"]["cost_usd"] is None
    assert report["judge_usage"]["cost_known"] is False
    buffer = io.StringIO()
    print_summary(Console(file=buffer, width=200), report)
    assert "cost unknown (no price for model)" in buffer.getvalue()
    assert "$0" not in buffer.getvalue()


def test_terminal_table_shows_failure_reasons_in_red() -> None:
    builder = _one_metric_builder()
    metric = builder.metrics["helpfulness"]
    trace = TraceRecord(trace_id="t", input="q", output="a")
    builder.add_seen(trace, [metric])
    builder.add(Judgment(trace_id="t", metric="helpfulness", error="malformed judge answer: x"))
    report = builder.build(1.0)
    assert report["metrics_summary"]["helpfulness"]["avg_score"] is None
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, force_terminal=True, color_system="truecolor")
    print_summary(console, report)
    text = buffer.getvalue()
    assert "1x malformed judge answer: x" in text
    red = "\x1b[31m"
    assert red + "n/a" in text  # all failed: not shown as a green "n/a"
