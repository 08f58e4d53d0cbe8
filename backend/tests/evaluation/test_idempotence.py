"""Scores keyed by (trace, metric, judge model, prompt version), and a gate over the window."""

import shutil
from pathlib import Path
from typing import Any

from sqlmodel import select

from app.core.db import SessionMaker
from app.evaluation import EvaluationOptions, Evaluator
from app.evaluation.metrics import PROMPTS_DIR, load_metrics
from app.models import AgentEvaluation
from tests.evaluation.helpers import create_run, seed_traces, trace_of
from tests.evaluation.test_cli import invoke
from tests.fakes.langfuse import LangfuseFake
from tests.fakes.llm_script import structured
from tests.fakes.openai_server import OpenAIStub
from tests.utils import create_user


async def rows() -> list[AgentEvaluation]:
    async with SessionMaker() as session:
        return list((await session.exec(select(AgentEvaluation))).all())


async def test_two_judges_and_two_prompt_versions_score_the_same_traces(
    langfuse_on: LangfuseFake,
    judge_stub: OpenAIStub,
    set_settings: Any,
    reports_dir: Any,
    tmp_path: Path,
) -> None:
    user, _ = await create_user()
    trace_ids = seed_traces(langfuse_on, 2)
    for trace_id in trace_ids:
        await create_run(user.id, trace_id=trace_id)
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    prompt_file = prompts / "relevancy.md"
    shutil.copy(PROMPTS_DIR / "relevancy.md", prompt_file)
    judge_stub.set_responder(lambda body: structured({"reasoning": "on topic", "score": 0.9}))

    async def run(judge_model: str) -> dict[str, Any]:
        set_settings(EVALUATION_LLM=judge_model)
        evaluator = Evaluator(EvaluationOptions(metrics=["relevancy"]), metrics_dir=prompts)
        return await evaluator.run(generate_report_file=False)

    def judged(report: dict[str, Any]) -> tuple[int, int]:
        summary = report["metrics_summary"]["relevancy"]
        return summary["success_count"], summary["skipped_count"]

    assert judged(await run("judge-a")) == (2, 0)
    assert judged(await run("judge-a")) == (0, 2)  # same judge, same prompt: already scored
    calls = len(judge_stub.requests)
    # Another judge model has not scored these traces yet (the offline demo's scores, or
    # judge-a's, never stand in for it).
    assert judged(await run("judge-b")) == (2, 0)
    assert len(judge_stub.requests) == calls + 2

    first_version = load_metrics(prompts)["relevancy"].version
    prompt_file.write_text(prompt_file.read_text().replace("Scoring", "Scoring (strict)"))
    second_version = load_metrics(prompts)["relevancy"].version
    assert first_version != second_version and second_version.startswith("sha256:")
    assert judged(await run("judge-b")) == (2, 0)  # a new prompt version is judged again
    assert judged(await run("judge-b")) == (0, 2)

    keys = {
        (s.trace_id, s.metadata["judge_model"], s.metadata["prompt_version"])
        for s in langfuse_on.scores()
        if s.name == "relevancy"
    }
    assert keys == {
        (trace_id, judge, version)
        for trace_id in trace_ids
        for judge, version in (
            ("judge-a", first_version),
            ("judge-b", first_version),
            ("judge-b", second_version),
        )
    }
    stored = {(r.run_id, r.judge_model, r.prompt_version) for r in await rows()}
    assert len(stored) == 6 and {r[1] for r in stored} == {"judge-a", "judge-b"}


async def test_rerun_gate_fails_on_an_earlier_failing_score_of_the_same_judge(
    langfuse_off: None, judge_stub: OpenAIStub, set_settings: Any
) -> None:
    user, _ = await create_user()
    await create_run(user.id, message="good question")
    await create_run(user.id, message="bad question")
    judge_stub.set_responder(
        lambda body: structured(
            {"reasoning": "r", "score": 0.1 if "bad" in trace_of(body) else 0.9}
        )
    )
    base = ("--source", "db", "--metric", "helpfulness", "--no-report")

    first = await invoke(*base, "--gate")
    assert first.exit_code == 1, first.output
    assert "gate: helpfulness: pass rate 50.0% < 80.0% over 2 score(s)" in first.output

    calls = len(judge_stub.requests)
    rerun = await invoke(*base, "--gate")  # nothing new to judge; the failing score still counts
    assert rerun.exit_code == 1, rerun.output
    assert len(judge_stub.requests) == calls
    assert "judged=0 failed=0 skipped=2" in rerun.output
    assert "gate: helpfulness: pass rate 50.0% < 80.0% over 2 score(s)" in rerun.output

    # Another judge model's gate reads only its own scores.
    set_settings(EVALUATION_LLM="judge-b")
    judge_stub.set_responder(lambda body: structured({"reasoning": "r", "score": 0.9}))
    other = await invoke(*base, "--gate")
    assert other.exit_code == 0, other.output
    assert "judged=2" in other.output and "gate: passed" in other.output


async def test_gate_with_nothing_to_judge_fails_unless_min_judged_is_zero(
    langfuse_off: None, judge_stub: OpenAIStub
) -> None:
    base = ("--source", "db", "--metric", "toxicity", "--no-report", "--gate")
    empty = await invoke(*base)
    assert empty.exit_code == 1, empty.output
    assert "gate: toxicity: 0 score(s) in the window, fewer than 1" in empty.output
    allowed = await invoke(*base, "--min-judged", "0")
    assert allowed.exit_code == 0, allowed.output

    user, _ = await create_user()
    await create_run(user.id)
    judge_stub.set_responder(lambda body: structured({"reasoning": "clean", "score": 0.0}))
    too_few = await invoke(*base, "--min-judged", "2")
    assert too_few.exit_code == 1
    assert "gate: toxicity: 1 score(s) in the window, fewer than 2" in too_few.output
    enough = await invoke(*base, "--min-judged", "1")
    assert enough.exit_code == 0 and "gate: passed" in enough.output
