"""The `agent-eval` entry point: the evaluation CLI plus `experiment run`, which runs the agent
through the services layer (the evaluation package itself may not import it)."""

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from app.core.config import settings
from app.evaluation.cli import JudgeChoice, app
from app.evaluation.cli_common import (
    EXIT_USAGE,
    RUNTIME_ERRORS,
    StoreChoice,
    console,
    err_console,
    exit_for,
    fail,
    is_api_error,
    print_json,
)
from app.evaluation.cli_datasets import experiment_app
from app.evaluation.display import print_experiment
from app.evaluation.metrics import MetricError
from app.services.experiments import run_experiment


@experiment_app.command("run")
def run(
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    name: Annotated[str, typer.Option("--name", help="This run's name (e.g. the commit).")],
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="Email of the user the agent runs as (their budgets apply); default "
            "EVALUATION_EXPERIMENT_USER.",
        ),
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option(help="Metric to apply (repeat; default all).")
    ] = None,
    correctness: Annotated[
        bool, typer.Option(help="Also grade items with an expected output for correctness.")
    ] = True,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Items in flight at once.")
    ] = settings.EVALUATION_EXPERIMENT_CONCURRENCY,
    judge: Annotated[JudgeChoice, typer.Option(help="llm, offline, or auto.")] = JudgeChoice(
        settings.EVALUATION_JUDGE
    ),
    store: Annotated[StoreChoice, typer.Option(help="langfuse, db, or auto.")] = StoreChoice.auto,
    report_dir: Annotated[Path | None, typer.Option(help="Where to write the report.")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Write no JSON report.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run the agent over every item of DATASET as --user, judge each answer, link it to its
    item (Langfuse dataset run items, or the local tables); compare runs with `compare`."""
    out = err_console if json_output else console
    user = user or settings.EVALUATION_EXPERIMENT_USER
    if not user:
        raise fail("give --user EMAIL (or set EVALUATION_EXPERIMENT_USER)", EXIT_USAGE)

    async def progress(done: int, total: int) -> None:
        out.print(f"progress: {done}/{total} items", highlight=False)

    try:
        result: dict[str, Any] = asyncio.run(
            run_experiment(
                dataset=dataset,
                run_name=name,
                user_email=user,
                metric_names=metric or [],
                judge_kind=judge.value,
                store_kind=store.value,
                concurrency=concurrency,
                correctness=correctness,
                reports_dir=report_dir,
                write_file=not no_report,
                on_progress=progress,
            )
        )
    except MetricError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    except RUNTIME_ERRORS as exc:
        raise exit_for(exc) from exc
    except Exception as exc:
        if is_api_error(exc):
            raise exit_for(exc) from exc
        raise
    if json_output:
        print_json(result)
    else:
        print_experiment(console, result)


def main() -> None:
    """Console-script entry point (`agent-eval`)."""
    app()


if __name__ == "__main__":
    main()
