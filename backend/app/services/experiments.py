"""Experiments: run the agent over a dataset as a designated user, through the same path as any
run (thread, budgets, queue, worker, run log), then judge each answer and link it to its item."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import structlog

from app.core.config import settings
from app.core.db import SessionMaker
from app.core.telemetry import get_langfuse
from app.crud import user as crud_user
from app.evaluation.datasets import DatasetItemRecord, StoreKind, open_store
from app.evaluation.errors import EvaluationUsageError
from app.evaluation.experiment import (
    ExperimentRunner,
    Progress,
    TaskOutcome,
    run_metadata,
    summarise,
)
from app.evaluation.judge import build_judge
from app.evaluation.metrics import load_metrics, select_metrics
from app.evaluation.report import write_report
from app.evaluation.schemas import JudgeKind
from app.evaluation.sources import run_to_record
from app.models import RunStatus, User
from app.services.budget import BudgetExceededError
from app.services.runs import recorder
from app.services.runs.errors import RunLayerError
from app.services.runs.prepare import NewRun, start_new_run
from app.services.runs.runtime import RunRuntime, open_runtime
from app.services.runs.streams import wait_for_end

logger = structlog.get_logger(__name__)
REFERENCE_METRIC = "correctness"
# The user's concurrent-run cap frees up as soon as one of their runs ends: look again this often.
CAP_POLL_SECONDS = 0.2


async def answer_item(
    runtime: RunRuntime, user: User, item: DatasetItemRecord, dataset: str, run_name: str
) -> TaskOutcome:
    """Start a run on a new thread of `user` with the item's input and wait for its end."""
    new = NewRun(
        message=item.input,
        thread_id=None,
        metadata={"experiment": run_name, "dataset": dataset, "dataset_item_id": item.id},
    )
    waited_until = time.monotonic() + settings.AGENT_RUN_TIMEOUT_SECONDS
    while True:
        try:
            queued = await start_new_run(runtime, user, new, stream_tokens=False)
            break
        except BudgetExceededError as exc:
            # The concurrent-run cap is respected by waiting for a slot; the daily token budget
            # fails the item (and the ones after it), as it would fail the user's own runs.
            if exc.budget != "concurrent_runs" or time.monotonic() > waited_until:
                return TaskOutcome(error=f"not started: {exc}")
            await asyncio.sleep(CAP_POLL_SECONDS)
        except RunLayerError as exc:
            return TaskOutcome(error=f"not started: {exc}")
    try:
        await wait_for_end(runtime, queued.run_id, queued.cursor)
    except RunLayerError as exc:
        return TaskOutcome(run_id=queued.run_id, error=f"no result: {exc}")
    run = await recorder.read_run(queued.run_id)
    if run is None:
        return TaskOutcome(run_id=queued.run_id, error="the run record is gone")
    trace = run_to_record(run)
    if run.status != RunStatus.success:
        detail = f": {run.error}" if run.error else ""
        return TaskOutcome(run_id=run.id, trace=trace, error=f"run ended {run.status}{detail}")
    return TaskOutcome(run_id=run.id, trace=trace)


@contextlib.asynccontextmanager
async def _runtime(given: RunRuntime | None) -> AsyncIterator[RunRuntime]:
    if given is not None:
        yield given
        return
    # Without Redis this process executes the runs itself; with Redis the workers do, as for
    # any run (this process only queues them and reads their results).
    async with open_runtime(settings, executes_runs=False) as runtime:
        yield runtime


async def run_experiment(
    *,
    dataset: str,
    run_name: str,
    user_email: str,
    metric_names: list[str],
    judge_kind: JudgeKind,
    store_kind: StoreKind = "auto",
    concurrency: int = 4,
    correctness: bool = True,
    reports_dir: Path | None = None,
    write_file: bool = True,
    runtime: RunRuntime | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the agent over every item of `dataset` and return the experiment's summary."""
    started = time.perf_counter()
    available = await asyncio.to_thread(load_metrics)
    metrics = select_metrics(available, [m for m in metric_names if m != REFERENCE_METRIC])
    reference = available.get(REFERENCE_METRIC) if correctness else None
    async with SessionMaker() as session:
        user = await crud_user.get_user_by_email(session=session, email=user_email)
    if user is None or not user.is_active:
        raise EvaluationUsageError(f"no active user {user_email!r} to run the experiment as")
    store = open_store(store_kind, SessionMaker)
    judge = build_judge(judge_kind)
    try:
        items = await store.items(dataset)
        if not items:
            raise EvaluationUsageError(f"dataset {dataset!r} has no items")
        metadata = run_metadata(judge, metrics, reference, user.email)
        await store.start_run(dataset, run_name, metadata)
        langfuse = get_langfuse()
        async with _runtime(runtime) as rt:

            async def task(item: DatasetItemRecord) -> TaskOutcome:
                return await answer_item(rt, user, item, dataset, run_name)

            runner = ExperimentRunner(
                store=store,
                dataset=dataset,
                run_name=run_name,
                task=task,
                judge=judge,
                metrics=metrics,
                reference=reference,
                concurrency=concurrency,
                sessions=SessionMaker,
                langfuse=langfuse,
                on_progress=on_progress,
            )
            results = await runner.run(items)
        if langfuse is not None:
            await asyncio.to_thread(langfuse.flush)
    finally:
        await judge.aclose()
        await store.aclose()
    summary = summarise(results, metrics, reference, started)
    report: dict[str, Any] = {
        "kind": "experiment",
        "dataset": dataset,
        "run_name": run_name,
        "store": store.kind,
        "judge": metadata["judge"],
        "judge_model": metadata["judge_model"],
        "prompt_versions": metadata["prompt_versions"],
        "user": user.email,
        "concurrency": concurrency,
        "user_concurrent_run_cap": settings.AGENT_MAX_CONCURRENT_RUNS_PER_USER or None,
        "storage": runner.storage,
        **summary,
        "report_path": None,
    }
    if write_file:
        path = await asyncio.to_thread(
            write_report, report, reports_dir or settings.EVALUATION_REPORTS_DIR, "experiment"
        )
        report["report_path"] = str(path)
    logger.info("experiment.completed", dataset=dataset, run_name=run_name, items=len(items))
    return report
