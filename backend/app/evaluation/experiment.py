"""An experiment: run a task (the agent) over every dataset item, link each run to its item,
judge it with the chosen metrics (plus `correctness` where the item has an expected output) and
summarise per metric. The task is given by the caller (`app.services.experiments` runs the
agent through the same path as any run), so this module knows nothing about queues."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.evaluation.datasets import DatasetItemRecord, DatasetStore
from app.evaluation.evaluator import judge_one
from app.evaluation.judge import Judge
from app.evaluation.outputs import (
    PRODUCER,
    judgment_metadata,
    push_langfuse_score,
    save_evaluation,
)
from app.evaluation.schemas import Judgment, MetricDefinition, TraceRecord

logger = structlog.get_logger(__name__)


@dataclass
class TaskOutcome:
    """What the task produced for one item: the answer as a trace to judge, or why not."""

    run_id: uuid.UUID | None = None
    trace: TraceRecord | None = None
    error: str | None = None


Task = Callable[[DatasetItemRecord], Awaitable[TaskOutcome]]
Progress = Callable[[int, int], Awaitable[None]]


@dataclass
class ItemResult:
    """One item's outcome in the experiment."""

    item_id: str
    run_id: uuid.UUID | None
    trace_id: str | None
    error: str | None
    judgments: list[Judgment] = field(default_factory=list)


def run_metadata(
    judge: Judge, metrics: list[MetricDefinition], reference: MetricDefinition | None, user: str
) -> dict[str, Any]:
    """What an experiment run records about itself (compare reads the judge and versions)."""
    every = [*metrics, *([reference] if reference else [])]
    return {
        "producer": PRODUCER,
        "judge_model": judge.name,
        "judge": "offline" if judge.offline else "llm",
        "prompt_versions": {m.name: m.version for m in every},
        "user": user,
        "started_at": datetime.now(UTC).isoformat(),
    }


class ExperimentRunner:
    """Runs `task` over the items with at most `concurrency` items in flight."""

    def __init__(
        self,
        *,
        store: DatasetStore,
        dataset: str,
        run_name: str,
        task: Task,
        judge: Judge,
        metrics: list[MetricDefinition],
        reference: MetricDefinition | None,
        concurrency: int,
        sessions: async_sessionmaker[AsyncSession],
        langfuse: Any | None,
        on_progress: Progress | None = None,
    ) -> None:
        self.store, self.dataset, self.run_name = store, dataset, run_name
        self._task, self._grader = task, judge
        self._metrics, self._reference = metrics, reference
        self._slots = asyncio.Semaphore(concurrency)
        self._sessions, self._langfuse = sessions, langfuse
        self._on_progress = on_progress
        self._done = 0
        self.storage = {
            "links_written": 0,
            "unlinked_untraced": 0,
            "langfuse_scores_queued": 0,
            "db_rows_written": 0,
            "errors": 0,
        }

    def _metrics_for(self, item: DatasetItemRecord) -> list[MetricDefinition]:
        if self._reference is not None and item.expected_output:
            return [*self._metrics, self._reference]
        return list(self._metrics)

    async def _store(
        self,
        trace: TraceRecord,
        run_id: uuid.UUID | None,
        metric: MetricDefinition,
        judgment: Judgment,
    ) -> None:
        meta = judgment_metadata(metric, judgment, self._grader.name, self._grader.offline)
        meta |= {"experiment": self.run_name, "dataset": self.dataset}
        if self._langfuse is not None and trace.has_langfuse_trace:
            try:
                push_langfuse_score(self._langfuse, trace, metric, judgment, meta)
                self.storage["langfuse_scores_queued"] += 1
            except Exception:
                self.storage["errors"] += 1
                logger.warning("experiment.langfuse_score_failed", exc_info=True)
        if run_id is not None:
            try:
                await save_evaluation(self._sessions, run_id, metric, judgment, meta)
                self.storage["db_rows_written"] += 1
            except Exception:
                self.storage["errors"] += 1
                logger.warning("experiment.db_write_failed", run_id=str(run_id), exc_info=True)

    async def _link(
        self, item: DatasetItemRecord, run_id: uuid.UUID, trace: TraceRecord | None
    ) -> None:
        """Link the run to its item; a failed link is counted, never fatal to the experiment."""
        trace_id = trace.trace_id if trace is not None and trace.has_langfuse_trace else None
        if self.store.kind == "langfuse" and trace_id is None:
            # Langfuse links a trace; an untraced run (sampled out) has none to link.
            self.storage["unlinked_untraced"] += 1
            return
        try:
            await self.store.link(self.dataset, self.run_name, item.id, trace_id, run_id)
            self.storage["links_written"] += 1
        except Exception:
            self.storage["errors"] += 1
            logger.warning("experiment.link_failed", item_id=item.id, exc_info=True)

    async def _judge(self, outcome: TaskOutcome, item: DatasetItemRecord) -> list[Judgment]:
        trace = outcome.trace
        assert trace is not None
        trace.expected_output = item.expected_output
        metrics = self._metrics_for(item)
        judgments = await asyncio.gather(*(judge_one(self._grader, trace, m) for m in metrics))
        for metric, judgment in zip(metrics, judgments, strict=True):
            if judgment.ok:
                await self._store(trace, outcome.run_id, metric, judgment)
        return list(judgments)

    async def _one(self, item: DatasetItemRecord, total: int) -> ItemResult:
        async with self._slots:
            try:
                outcome = await self._task(item)
            except Exception as exc:  # one item's failure must not stop the experiment
                logger.warning("experiment.task_failed", item_id=item.id, exc_info=True)
                outcome = TaskOutcome(error=f"{type(exc).__name__}: {exc}")
            trace_id = outcome.trace.trace_id if outcome.trace else None
            result = ItemResult(item.id, outcome.run_id, trace_id, outcome.error)
            if outcome.run_id is not None:
                await self._link(item, outcome.run_id, outcome.trace)
            if outcome.trace is not None and outcome.error is None:
                result.judgments = await self._judge(outcome, item)
        self._done += 1
        if self._on_progress is not None:
            await self._on_progress(self._done, total)
        return result

    async def run(self, items: list[DatasetItemRecord]) -> list[ItemResult]:
        """Every item, concurrently up to the limit; results in item order."""
        return list(await asyncio.gather(*(self._one(item, len(items)) for item in items)))


def summarise(
    results: list[ItemResult],
    metrics: list[MetricDefinition],
    reference: MetricDefinition | None,
    started: float,
) -> dict[str, Any]:
    """Per-metric counts, average score and pass rate, and the items the agent failed on."""
    every = [*metrics, *([reference] if reference else [])]
    per_metric: dict[str, Any] = {}
    for metric in every:
        judged = [j for r in results for j in r.judgments if j.metric == metric.name]
        scored = [j for j in judged if j.ok]
        failures = [j for j in judged if not j.ok and not j.not_applicable]
        per_metric[metric.name] = {
            "judged": len(scored),
            "not_applicable": sum(1 for j in judged if j.not_applicable),
            "failed": len(failures),
            "failure_reasons": sorted({j.error or "" for j in failures})[:5],
            "avg_score": round(sum(j.score or 0 for j in scored) / len(scored), 4)
            if scored
            else None,
            "pass_rate": round(sum(1 for j in scored if j.passed) / len(scored), 4)
            if scored
            else None,
            "min_pass_rate": metric.min_pass_rate,
            "higher_is_better": metric.higher_is_better,
        }
    costs: list[float | None] = [j.usage.cost_usd for r in results for j in r.judgments]
    duration = time.perf_counter() - started
    return {
        "items": len(results),
        "items_answered": sum(1 for r in results if r.error is None and r.run_id is not None),
        "items_failed": [
            {"item_id": r.item_id, "run_id": str(r.run_id) if r.run_id else None, "error": r.error}
            for r in results
            if r.error is not None
        ],
        "metrics": per_metric,
        "judge_cost_usd": None
        if any(c is None for c in costs)
        else round(sum(c or 0.0 for c in costs), 6),
        "cost_known": all(c is not None for c in costs),
        "duration_seconds": round(duration, 3),
        "items_per_second": round(len(results) / duration, 3) if duration > 0 else None,
        "runs": [
            {
                "item_id": r.item_id,
                "run_id": str(r.run_id) if r.run_id else None,
                "trace_id": r.trace_id,
                "error": r.error,
                "scores": {j.metric: j.score for j in r.judgments if j.ok},
            }
            for r in results
        ],
    }
