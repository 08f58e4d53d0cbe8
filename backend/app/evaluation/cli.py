"""`agent-eval`: LLM-as-judge over recent traces, calibration, datasets and experiments.

Exit codes: 0 done (gate passed), 1 the --gate/--fail-under/compare check failed, 2 bad usage
(unknown metric, dataset or run, bad option), 3 configuration or connection error (one `error:`
line on stderr). `agent-eval experiment run` is added by `app.eval_cli` (it runs the agent).
"""

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO, cast

import typer
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import settings
from app.core.logging import configure_logging
from app.core.telemetry import get_langfuse
from app.evaluation.calibration import calibration_summary, labelled_pairs
from app.evaluation.cli_common import (
    EXIT_GATE,
    EXIT_RUNTIME,
    EXIT_USAGE,
    RUNTIME_ERRORS,
    CurrentStderr,
    console,
    err_console,
    one_line,
    run_with_database,
)
from app.evaluation.cli_common import fail as _fail
from app.evaluation.cli_common import print_json as _print_json
from app.evaluation.cli_datasets import dataset_app, experiment_app
from app.evaluation.display import ProgressDisplay, print_calibration, print_summary
from app.evaluation.evaluator import Evaluator
from app.evaluation.judge import judge_model_name, resolve_judge_kind
from app.evaluation.metrics import MetricError, load_metrics, select_metrics
from app.evaluation.report import gate_failures, write_report
from app.evaluation.schemas import EvaluationOptions

DATETIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"]

app = typer.Typer(
    help="Score agent traces with LLM-as-judge metrics (app/evaluation/metrics/prompts/*.md).",
    add_completion=False,
    rich_markup_mode=None,
)


class JudgeChoice(StrEnum):
    """--judge values."""

    auto = "auto"
    llm = "llm"
    offline = "offline"


class SourceChoice(StrEnum):
    """--source values."""

    auto = "auto"
    langfuse = "langfuse"
    db = "db"


def _print_plan(plan: dict[str, Any]) -> None:
    console.print(
        f"dry run ({plan['source']}, {plan['window'][0]} .. {plan['window'][1]}): "
        f"{plan['traces_to_score']} of {plan['traces_seen']} traces need scoring; "
        f"estimated judge calls: {plan['estimated_judge_calls']} "
        f"({plan['already_scored']} already scored)",
        highlight=False,
    )
    for item in plan["items"][:200]:
        console.print(
            f"  {item['trace_id']}  {item['timestamp'] or '-'}  {','.join(item['metrics'])}",
            highlight=False,
        )
    if len(plan["items"]) > 200:
        console.print(f"  … and {len(plan['items']) - 200} more", highlight=False)


@app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    since: Annotated[
        datetime | None, typer.Option(formats=DATETIME_FORMATS, help="Window start (UTC).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=DATETIME_FORMATS, help="Window end (UTC).")
    ] = None,
    hours: Annotated[float, typer.Option(min=0.001, help="Window size without --since.")] = 24.0,
    tag: Annotated[
        list[str] | None, typer.Option(help="Only traces with this tag (repeat).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Only traces with this name.")] = None,
    user: Annotated[str | None, typer.Option(help="Only this user's traces (id or email).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many traces.")] = None,
    metric: Annotated[
        list[str] | None, typer.Option(help="Metric to apply (repeat; default all).")
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=256, help="Concurrent judge calls.")
    ] = settings.EVALUATION_CONCURRENCY,
    rescore: Annotated[bool, typer.Option(help="Score again even where a score exists.")] = False,
    dry_run: Annotated[
        bool, typer.Option(help="List what would be scored; call no judge.")
    ] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Write no JSON report.")] = False,
    fail_under: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Exit 1 if any metric's pass rate is below this."),
    ] = None,
    gate: Annotated[
        bool, typer.Option(help="Exit 1 if any metric's pass rate is below its min_pass_rate.")
    ] = False,
    min_judged: Annotated[
        int,
        typer.Option(min=0, help="With --gate/--fail-under: exit 1 below this many scores."),
    ] = 1,
    judge: Annotated[JudgeChoice, typer.Option(help="llm, offline, or auto.")] = JudgeChoice(
        settings.EVALUATION_JUDGE
    ),
    source: Annotated[
        SourceChoice, typer.Option(help="langfuse, db, or auto.")
    ] = SourceChoice.auto,
    report_dir: Annotated[Path | None, typer.Option(help="Where to write the report.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Score every unscored trace in the window (default: the last 24 hours)."""
    configure_logging(
        settings, stream=cast(TextIO, CurrentStderr())
    )  # stdout is for results (--json)
    if ctx.invoked_subcommand is not None:
        return
    try:
        options = EvaluationOptions(
            hours=hours,
            since=since,
            until=until,
            tags=tag or [],
            name=name,
            user=user,
            limit=limit,
            metrics=metric or [],
            rescore=rescore,
            judge=judge.value,
            source=source.value,
            concurrency=concurrency,
        )
        select_metrics(load_metrics(), options.metrics)
    except (MetricError, ValueError) as exc:
        raise _fail(str(exc), EXIT_USAGE) from exc

    # With --json, stdout carries the JSON document and nothing else.
    out = err_console if json_output else console
    display = ProgressDisplay(out)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        evaluator = Evaluator(
            options,
            session_maker=sessions,
            reports_dir=report_dir,
            on_progress=None if dry_run else display.update,
        )
        if dry_run:
            return await evaluator.plan()
        if resolve_judge_kind(options.judge) == "offline":
            out.print("judge: offline heuristics (not an LLM): scores are for demos/tests")
        with display:
            return await evaluator.run(generate_report_file=not no_report)

    try:
        result = run_with_database(work)
    except RUNTIME_ERRORS as exc:
        raise _fail(one_line(exc), EXIT_RUNTIME) from exc
    if dry_run:
        if json_output:
            _print_json(result)
        else:
            _print_plan(result)
        return
    if json_output:
        _print_json(result)
    print_summary(out, result)
    out.print(
        f"report: {result['report_path']}" if result["report_path"] else "report: not written",
        highlight=False,
    )
    if gate or fail_under is not None:
        failures = gate_failures(result, fail_under, min_judged)
        for failure in failures:
            err_console.print(f"gate: {failure}", highlight=False, markup=False)
        if failures:
            raise typer.Exit(EXIT_GATE)
        out.print("gate: passed", highlight=False)


@app.command()
def calibrate(
    metric: Annotated[list[str] | None, typer.Option(help="Metric to calibrate (repeat).")] = None,
    judge: Annotated[
        JudgeChoice, typer.Option(help="Whose scores: llm (EVALUATION_LLM), offline, or auto.")
    ] = JudgeChoice(settings.EVALUATION_JUDGE),
    no_report: Annotated[bool, typer.Option("--no-report", help="Write no JSON report.")] = False,
    report_dir: Annotated[Path | None, typer.Option(help="Where to write the report.")] = None,
) -> None:
    """Compare judge pass/fail with human thumbs on the same runs (agreement, Cohen's kappa)."""
    try:
        metrics = select_metrics(load_metrics(), metric or [])
    except MetricError as exc:
        raise _fail(str(exc), EXIT_USAGE) from exc

    judge_model = judge_model_name(judge.value)
    langfuse = get_langfuse()  # annotation scores named like a metric are human labels

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [
                calibration_summary(
                    m,
                    await labelled_pairs(session, m, judge_model, langfuse),
                    settings.EVALUATION_CALIBRATION_MIN_RUNS,
                    judge_model,
                )
                for m in metrics
            ]

    try:
        results = run_with_database(work)
    except RUNTIME_ERRORS as exc:
        raise _fail(one_line(exc), EXIT_RUNTIME) from exc
    for result in results:
        print_calibration(console, result)
    if not no_report:
        report = {"timestamp": datetime.now().astimezone().isoformat(), "calibration": results}
        path = write_report(report, report_dir or settings.EVALUATION_REPORTS_DIR, "calibration")
        console.print(f"report: {path}", highlight=False)


@app.command("metrics")
def list_metrics() -> None:
    """List the metrics found in the prompts directory."""
    try:
        found = load_metrics()
    except MetricError as exc:
        raise _fail(str(exc), EXIT_USAGE) from exc
    for m in found.values():
        direction = "higher is better" if m.higher_is_better else "lower is better"
        if m.reference:
            direction += ", reference-based: experiments only"
        console.print(
            f"{m.name} (v{m.version}, {direction}, threshold {m.threshold}, "
            f"min pass rate {m.min_pass_rate}): {m.description}",
            highlight=False,
        )


app.add_typer(dataset_app, name="dataset")
app.add_typer(experiment_app, name="experiment")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
