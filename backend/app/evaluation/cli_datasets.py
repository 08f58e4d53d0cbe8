"""`agent-eval dataset ...` and `agent-eval experiment compare`: datasets and the regression gate.

(`agent-eval experiment run` runs the agent, so it is added by `app.eval_cli`, above the
services layer this package may not import.)
"""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.telemetry import get_langfuse
from app.evaluation.cli_common import (
    EXIT_GATE,
    EXIT_RUNTIME,
    EXIT_USAGE,
    StoreChoice,
    console,
    err_console,
    fail,
    one_line,
    print_json,
    run_guarded,
    run_with_database,
)
from app.evaluation.compare import comparability_warnings, compare_runs, run_metrics, run_scores
from app.evaluation.datasets import DatasetItemIn, open_store
from app.evaluation.metrics import MetricError, load_metrics

dataset_app = typer.Typer(help="Datasets to run experiments on.", rich_markup_mode=None)
experiment_app = typer.Typer(
    help="Run the agent over a dataset and compare runs.", rich_markup_mode=None
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON only.")]
StoreOption = Annotated[
    StoreChoice, typer.Option(help="langfuse (datasets there), db (our tables), or auto.")
]


def _metadata(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise fail(f"--metadata is not JSON: {exc}", EXIT_USAGE) from exc
    if not isinstance(value, dict):
        raise fail("--metadata must be a JSON object", EXIT_USAGE)
    return value


def read_items_file(path: Path) -> list[DatasetItemIn]:
    """Items from a JSONL file: one `{"input", "expected_output"?, "metadata"?, "id"?}` a line
    (`expectedOutput` is accepted too, as Langfuse exports it)."""
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}", EXIT_USAGE) from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if isinstance(data, dict) and "expectedOutput" in data:
                data["expected_output"] = data.pop("expectedOutput")
            items.append(DatasetItemIn.model_validate(data))
        except (ValueError, ValidationError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise fail(f"{path}:{number}: not a dataset item ({detail})", EXIT_USAGE) from exc
    return items


@dataset_app.command("create")
def create_dataset(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    description: Annotated[str | None, typer.Option(help="What the dataset is for.")] = None,
    metadata: Annotated[str | None, typer.Option(help="A JSON object.")] = None,
    store: StoreOption = StoreChoice.auto,
    json_output: JsonOption = False,
) -> None:
    """Create a dataset (or update its description and metadata)."""
    meta = _metadata(metadata)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        target = open_store(store.value, sessions)
        try:
            info = await target.create(name, description, meta)
        finally:
            await target.aclose()
        return {"store": target.kind, **info.model_dump()}

    result = run_guarded(work)
    if json_output:
        print_json(result)
    else:
        console.print(
            f"dataset {result['name']} ({result['store']}): {result['items']} item(s)",
            highlight=False,
        )


@dataset_app.command("add")
def add_items(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    input_text: Annotated[str | None, typer.Option("--input", help="The agent's input.")] = None,
    expected: Annotated[
        str | None, typer.Option("--expected", help="The expected output (optional).")
    ] = None,
    metadata: Annotated[str | None, typer.Option(help="A JSON object.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A JSONL file of items (instead of --input).")
    ] = None,
    store: StoreOption = StoreChoice.auto,
    json_output: JsonOption = False,
) -> None:
    """Add one item (--input) or every line of a JSONL file (--file); re-adding is a no-op."""
    if (input_text is None) == (file is None):
        raise fail("give either --input or --file", EXIT_USAGE)
    if file is not None:
        items = read_items_file(file)
    else:
        try:
            items = [
                DatasetItemIn(
                    input=input_text or "", expected_output=expected, metadata=_metadata(metadata)
                )
            ]
        except ValidationError as exc:
            raise fail(f"not a dataset item: {exc.errors()[0]['msg']}", EXIT_USAGE) from exc
    if not items:
        raise fail("no items to add", EXIT_USAGE)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        target = open_store(store.value, sessions)
        try:
            sent = await target.add(name, items)
        finally:
            await target.aclose()
        return {"store": target.kind, "dataset": name, "items_sent": sent}

    result = run_guarded(work)
    if json_output:
        print_json(result)
    else:
        console.print(
            f"{result['items_sent']} item(s) added to {name} ({result['store']})", highlight=False
        )


@dataset_app.command("list")
def list_datasets(
    name: Annotated[str | None, typer.Argument(help="List this dataset's items.")] = None,
    store: StoreOption = StoreChoice.auto,
    json_output: JsonOption = False,
) -> None:
    """List datasets (with item counts), or one dataset's items."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        target = open_store(store.value, sessions)
        try:
            if name is None:
                return {
                    "store": target.kind,
                    "datasets": [d.model_dump() for d in await target.datasets()],
                }
            items = await target.items(name)
            return {"store": target.kind, "dataset": name, "items": [i.model_dump() for i in items]}
        finally:
            await target.aclose()

    result = run_guarded(work)
    if json_output:
        print_json(result)
    elif name is None:
        for d in result["datasets"]:
            console.print(
                f"{d['name']}  {d['items']} item(s)  {d['description'] or ''}", highlight=False
            )
        if not result["datasets"]:
            console.print(f"no datasets ({result['store']})", highlight=False)
    else:
        for item in result["items"]:
            expected = item["expected_output"]
            console.print(
                f"{item['id']}  {item['input'][:80]!r}"
                + (f" -> {expected[:60]!r}" if expected else ""),
                highlight=False,
            )


@experiment_app.command("compare")
def compare(
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    baseline: Annotated[str, typer.Argument(help="Run A (the baseline).")],
    candidate: Annotated[str, typer.Argument(help="Run B (the candidate).")],
    max_regression: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Exit 1 when a metric's mean drops by more."),
    ] = 0.05,
    store: StoreOption = StoreChoice.auto,
    json_output: JsonOption = False,
) -> None:
    """Per-metric deltas B - A on the items both runs answered, with a 95 % paired-bootstrap
    interval; exit 1 when a metric's quality drops by more than --max-regression."""
    try:
        available = load_metrics()
    except MetricError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc

    async def work(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        target = open_store(store.value, sessions)
        langfuse = get_langfuse()
        try:
            run_a = await target.run(dataset, baseline)
            run_b = await target.run(dataset, candidate)
            metrics_a = run_metrics(run_a, available)
            metrics_b = run_metrics(run_b, available)
            scores_a = await run_scores(target, run_a, metrics_a, sessions, langfuse)
            scores_b = await run_scores(target, run_b, metrics_b, sessions, langfuse)
        finally:
            await target.aclose()
        shared = [m for m in metrics_b if m.name in {x.name for x in metrics_a}]
        rows = compare_runs(scores_a, scores_b, shared, max_regression)
        return {
            "store": target.kind,
            "dataset": dataset,
            "baseline": baseline,
            "candidate": candidate,
            "max_regression": max_regression,
            "interval": "95% paired bootstrap (percentile, 2000 resamples, seed 17)",
            "warnings": comparability_warnings(run_a, run_b),
            "metrics": rows,
            "regressed": [r["metric"] for r in rows if r["regressed"]],
        }

    result = run_guarded(work)
    if json_output:
        print_json(result)
    else:
        _print_comparison(result)
    for warning in result["warnings"]:
        err_console.print(f"warning: {warning}", highlight=False, markup=False)
    if result["regressed"]:
        err_console.print(
            f"gate: regressed past {max_regression}: {', '.join(result['regressed'])}",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(EXIT_GATE)
    if not json_output:
        console.print("gate: passed", highlight=False)


def _print_comparison(result: dict[str, Any]) -> None:
    console.print(
        f"{result['dataset']}: {result['baseline']} (A) -> {result['candidate']} (B); "
        f"interval: {result['interval']}",
        highlight=False,
    )
    for row in result["metrics"]:
        if not row["paired_items"]:
            console.print(f"  {row['metric']}: {row['note']}", highlight=False)
            continue
        ci = row["quality_delta_ci95"]
        interval = f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "n/a (one item)"
        direction = "higher is better" if row["higher_is_better"] else "lower is better"
        status = "REGRESSED" if row["regressed"] else "ok"
        console.print(
            f"  {row['metric']} ({direction}): A {row['mean_a']:.3f}  B {row['mean_b']:.3f}  "
            f"delta {row['delta']:+.3f}  quality {row['quality_delta']:+.3f} {interval}  "
            f"n={row['paired_items']}  {status}",
            highlight=False,
        )


__all__ = ["EXIT_RUNTIME", "dataset_app", "experiment_app", "one_line", "run_with_database"]
