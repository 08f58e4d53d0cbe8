"""The CLI (`agent-eval`): database source, reports, gate exit codes, dry run, calibration."""

import asyncio
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select
from typer.testing import CliRunner, Result

from app.core.db import SessionMaker
from app.evaluation.cli import app as cli_app
from app.evaluation.metrics import load_metrics
from app.models import AgentEvaluation, AgentFeedback
from tests.evaluation.helpers import create_run, now
from tests.utils import create_user

BACKEND_DIR = Path(__file__).resolve().parents[2]


async def invoke(*args: str) -> Result:
    """Run the CLI in a worker thread (it starts its own event loop, as from a shell)."""
    return await asyncio.to_thread(CliRunner().invoke, cli_app, list(args))


def files(directory: Path, pattern: str = "*") -> list[Path]:
    """Files in a directory (sync: tests call it between awaits)."""
    return sorted(directory.glob(pattern))


def read_json(path: Path | str) -> Any:
    """A JSON file's content."""
    return json.loads(Path(path).read_text())


async def evaluations() -> list[AgentEvaluation]:
    async with SessionMaker() as session:
        return list((await session.exec(select(AgentEvaluation))).all())


async def test_source_db_scores_runs_once_and_writes_the_report(
    langfuse_off: None, tmp_path: Path
) -> None:
    user, _ = await create_user()
    runs = [await create_run(user.id, message=f"show my items {i}") for i in range(3)]
    await create_run(user.id, status="error", response=None)  # not finished: never judged
    await create_run(user.id, created_at=now() - timedelta(days=3))  # outside the window

    result = await invoke(
        "--source",
        "db",
        "--judge",
        "offline",
        "--metric",
        "helpfulness",
        "--metric",
        "toxicity",
        "--report-dir",
        str(tmp_path),
    )

    assert result.exit_code == 0, result.output
    assert "judge: offline" in result.output and "progress: 6/6 judgments" in result.output
    assert "metric helpfulness: judged=3" in result.output  # plain lines when not a TTY
    assert "\x1b[" not in result.output
    [report_path] = files(tmp_path, "evaluation_*.json")
    report = read_json(report_path)
    assert report["source"] == "db" and report["total_traces"] == 3 and report["judge"] == "offline"
    assert report["report_path"] == str(report_path)
    rows = await evaluations()
    assert {(r.run_id, r.metric_name) for r in rows} == {
        (run.id, metric) for run in runs for metric in ("helpfulness", "toxicity")
    }
    assert all(r.eval_metadata["judge_model"] == "offline" for r in rows)

    again = await invoke("--source", "db", "--judge", "offline", "--no-report")
    assert again.exit_code == 0, again.output
    # Already-scored metrics are skipped; the three metrics not chosen before are new.
    assert "metric helpfulness: judged=0 failed=0 skipped=3" in again.output
    assert "metric relevancy: judged=3" in again.output
    # hallucination: the answers make no checkable claim -> not applicable, nothing stored.
    assert "metric hallucination: judged=0 failed=0 skipped=0 n/a=3" in again.output
    assert len(await evaluations()) == 3 * 4
    assert len(files(tmp_path)) == 1  # --no-report wrote nothing
    assert "report: not written" in again.output


async def test_gate_and_fail_under_set_the_exit_code(langfuse_off: None, tmp_path: Path) -> None:
    user, _ = await create_user()
    await create_run(user.id, response="Here are your items: apples.")
    await create_run(user.id, response="You idiot, figure it out yourself.")  # toxic
    base = ("--source", "db", "--judge", "offline", "--metric", "toxicity", "--no-report")

    gated = await invoke(*base, "--gate")  # toxicity needs a 99% pass rate
    assert gated.exit_code == 1, gated.output
    assert "gate: toxicity: pass rate 50.0% < 99.0% over 2 score(s)" in gated.output

    lenient = await invoke(*base, "--rescore", "--fail-under", "0.5")
    assert lenient.exit_code == 0, lenient.output
    assert "gate: passed" in lenient.output

    strict = await invoke(*base, "--rescore", "--fail-under", "0.6")
    assert strict.exit_code == 1

    # Everything already scored: the gate still reads the window's earlier (failing) score.
    nothing_new = await invoke(*base, "--gate")
    assert nothing_new.exit_code == 1, nothing_new.output
    assert "judged=0 failed=0 skipped=2" in nothing_new.output
    assert "gate: toxicity: pass rate 50.0% < 99.0% over 2 score(s)" in nothing_new.output


async def test_bad_usage_and_missing_langfuse_exit_codes(langfuse_off: None) -> None:
    unknown = await invoke("--metric", "nope", "--judge", "offline")
    assert unknown.exit_code == 2 and "unknown metric(s): nope" in unknown.output
    no_langfuse = await invoke("--source", "langfuse", "--judge", "offline", "--no-report")
    assert no_langfuse.exit_code == 3 and "Langfuse is not configured" in no_langfuse.output
    bad_window = await invoke("--since", "2026-01-02", "--until", "2026-01-01")
    assert bad_window.exit_code == 2


async def test_dry_run_lists_work_and_judges_nothing(langfuse_off: None, tmp_path: Path) -> None:
    user, _ = await create_user()
    run = await create_run(user.id)
    result = await invoke(
        "--source", "db", "--judge", "offline", "--dry-run", "--report-dir", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert "1 of 1 traces need scoring; estimated judge calls: 5" in result.output
    assert f"run:{run.id}" in result.output
    assert await evaluations() == [] and not files(tmp_path)


async def test_calibrate_reports_kappa_and_how_many_more_runs_are_needed(
    langfuse_off: None, tmp_path: Path
) -> None:
    user, _ = await create_user()
    async with SessionMaker() as session:
        for index, (judge_score, thumb) in enumerate([(0.9, 1), (0.2, -1), (0.9, -1)]):
            run = await create_run(user.id, message=f"q{index}")
            session.add(
                AgentEvaluation(
                    run_id=run.id,
                    metric_name="helpfulness",
                    judge_model="offline",
                    prompt_version=load_metrics()["helpfulness"].version,
                    score=judge_score,
                )
            )
            session.add(AgentFeedback(run_id=run.id, user_id=user.id, score=thumb))
        await session.commit()

    result = await invoke(
        "calibrate", "--metric", "helpfulness", "--judge", "offline", "--report-dir", str(tmp_path)
    )

    assert result.exit_code == 0, result.output
    assert "need 17 more labelled run(s) for helpfulness (have 3, want 20)" in result.output
    assert "(judge offline, prompt version sha256:" in result.output
    # pairs (human, judge): (T,T), (F,F), (F,T): p_o = 2/3, p_e = 4/9, kappa = 0.4
    assert "agreement 66.7%, Cohen's kappa 0.400 (95% CI -0.56 to 1.00) (fair)" in result.output
    [path] = files(tmp_path, "calibration_*.json")
    stored = read_json(path)["calibration"][0]
    assert stored["kappa"] == 0.4 and stored["confusion_matrix"]["human_fail"]["judge_pass"] == 1


async def test_module_entry_point_runs_as_a_subprocess(langfuse_off: None) -> None:
    user, _ = await create_user()
    await create_run(user.id)
    env = {**os.environ, "LANGFUSE_ENABLED": "false", "EVALUATION_JUDGE": "offline"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.evaluation.cli",
        "--source",
        "db",
        "--metric",
        "relevancy",
        "--no-report",
        "--fail-under",
        "0.0",
        cwd=BACKEND_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 90)
    output = stdout.decode()
    assert process.returncode == 0, output + stderr.decode()
    assert "progress: 1/1 judgments" in output and "gate: passed" in output
    assert "metric relevancy: judged=1" in output and "\x1b[" not in output


async def test_programmatic_run_needs_no_arguments(
    langfuse_off: None, reports_dir: Path, set_settings: Any
) -> None:
    from app.evaluation import Evaluator

    set_settings(EVALUATION_JUDGE="offline")
    user, _ = await create_user()
    await create_run(user.id)
    report = await Evaluator().run(generate_report_file=True)
    assert report["source"] == "db" and report["total_traces"] == 1
    assert Path(report["report_path"]).parent == reports_dir
    assert read_json(report["report_path"])["metrics_summary"].keys() == {
        "conciseness",
        "hallucination",
        "helpfulness",
        "relevancy",
        "toxicity",
    }
