"""The evaluation run: page through traces, skip scored pairs, judge concurrently, store, report."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import settings
from app.evaluation.calibration import calibration_summary, labelled_pairs
from app.evaluation.errors import EvaluationError
from app.evaluation.judge import Judge, build_judge, judge_model_name
from app.evaluation.metrics import load_metrics, select_metrics
from app.evaluation.outputs import judgment_metadata, push_langfuse_score, save_evaluation
from app.evaluation.report import ReportBuilder, write_report
from app.evaluation.schemas import (
    EvaluationOptions,
    Judgment,
    MetricDefinition,
    TraceRecord,
)
from app.evaluation.sources import (
    DbSource,
    ExistingScores,
    LangfuseSource,
    TraceSource,
    db_existing_scores,
    langfuse_existing_scores,
    runs_by_trace_id,
    time_window,
)

logger = structlog.get_logger(__name__)
_DEFAULT: Any = object()
WorkItem = tuple[TraceRecord, MetricDefinition]


@dataclass
class EvaluationProgress:
    """Counters reported while a run goes on."""

    traces_seen: int = 0
    judgments_total: int = 0
    judgments_done: int = 0
    judgments_failed: int = 0
    judgments_skipped: int = 0
    source_exhausted: bool = False


ProgressCallback = Callable[[EvaluationProgress], Awaitable[None]]


async def judge_one(judge: Judge, trace: TraceRecord, metric: MetricDefinition) -> Judgment:
    """One judgment; a crashing judge or an empty answer is a failed judgment, never raised."""
    if not trace.output.strip():
        return Judgment(
            trace_id=trace.trace_id, metric=metric.name, error="trace has no output", attempts=0
        )
    try:
        result = await judge.judge(metric, trace)
    except Exception as exc:  # a judge must not take the whole run down
        logger.warning("evaluation.judge_crashed", metric=metric.name, exc_info=True)
        return Judgment(
            trace_id=trace.trace_id, metric=metric.name, error=f"{type(exc).__name__}: {exc}"
        )
    if result.not_applicable is not None:
        return Judgment(
            trace_id=trace.trace_id,
            metric=metric.name,
            not_applicable=True,
            reasoning=result.not_applicable,
            usage=result.usage,
            attempts=result.attempts,
            latency_ms=result.latency_ms,
        )
    verdict = result.verdict
    return Judgment(
        trace_id=trace.trace_id,
        metric=metric.name,
        score=verdict.score if verdict else None,
        passed=metric.passed(verdict.score) if verdict else None,
        reasoning=verdict.reasoning if verdict else None,
        error=result.error if verdict is None else None,
        usage=result.usage,
        attempts=result.attempts,
        latency_ms=result.latency_ms,
    )


class Evaluator:
    """LLM-as-judge over traces; `await Evaluator().run()` returns the report dict."""

    def __init__(
        self,
        options: EvaluationOptions | None = None,
        *,
        judge: Judge | None = None,
        langfuse: Any = _DEFAULT,
        session_maker: async_sessionmaker[AsyncSession] | None = None,
        metrics_dir: Path | None = None,
        reports_dir: Path | None = None,
        on_progress: ProgressCallback | None = None,
        source: TraceSource | None = None,
        use_database: bool = True,
    ) -> None:
        self.options = options or EvaluationOptions()
        self._custom_source = source
        self._judge = judge
        self._langfuse = langfuse
        self._sessions = session_maker
        self._metrics_dir = metrics_dir
        self.reports_dir = reports_dir or settings.EVALUATION_REPORTS_DIR
        self._on_progress = on_progress
        self.progress = EvaluationProgress()
        self._db_ok = use_database
        # Which judge's scores count as "already scored" (set again from the built judge).
        self._judge_name = judge.name if judge is not None else judge_model_name(self.options.judge)

    # --- resources -------------------------------------------------------------------------

    def metrics(self) -> list[MetricDefinition]:
        """The selected metrics (raises `MetricError` for unknown names)."""
        return select_metrics(load_metrics(self._metrics_dir), self.options.metrics)

    def _client(self) -> Any:
        if self._langfuse is _DEFAULT:
            from app.core.telemetry import get_langfuse

            self._langfuse = get_langfuse()
        return self._langfuse

    def _session_maker(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            from app.core.db import SessionMaker

            self._sessions = SessionMaker
        return self._sessions

    def source_name(self) -> str:
        """The source this run reads: `auto` is Langfuse when configured, else the database."""
        if self._custom_source is not None:
            return self._custom_source.name
        if self.options.source != "auto":
            return self.options.source
        return "langfuse" if self._client() is not None else "db"

    def _source(self) -> TraceSource:
        if self._custom_source is not None:
            return self._custom_source
        if self.source_name() == "db":
            return DbSource(self.options, self._session_maker())
        client = self._client()
        if client is None:
            raise EvaluationError(
                "Langfuse is not configured (set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY) "
                "- or read runs from the database with --source db"
            )
        return LangfuseSource(client, self.options)

    async def _notify(self) -> None:
        if self._on_progress is None:
            return
        try:
            await self._on_progress(self.progress)
        except Exception:  # progress display/persistence must never stop the evaluation
            logger.warning("evaluation.progress_callback_failed", exc_info=True)

    # --- what is already scored ------------------------------------------------------------

    async def _pending(
        self, page: list[TraceRecord], metrics: list[MetricDefinition]
    ) -> list[tuple[TraceRecord, list[MetricDefinition], dict[str, float]]]:
        """For each trace, the metrics this judge has no score for yet with their current prompt
        version (all of them with --rescore), and the scores it already has (for the gate)."""
        scored: ExistingScores = {}
        if self._db_ok:
            try:
                async with self._session_maker()() as session:
                    run_ids = await runs_by_trace_id(session, [t.trace_id for t in page])
                    for trace in page:
                        trace.run_id = trace.run_id or run_ids.get(trace.trace_id)
                    if not self.options.rescore:
                        scored |= await db_existing_scores(
                            session, run_ids, metrics, self._judge_name
                        )
            except Exception:
                self._db_ok = False
                logger.warning("evaluation.database_unavailable", exc_info=True)
        client = self._client()
        remote = [t.trace_id for t in page if t.has_langfuse_trace]
        if client is not None and remote and not self.options.rescore:
            scored |= await langfuse_existing_scores(client, remote, metrics, self._judge_name)
        result = []
        for trace in page:
            earlier = {
                m.name: scored[(trace.trace_id, m.name)]
                for m in metrics
                if (trace.trace_id, m.name) in scored
            }
            result.append((trace, [m for m in metrics if m.name not in earlier], earlier))
        return result

    # --- the run ---------------------------------------------------------------------------

    async def _produce(
        self,
        metrics: list[MetricDefinition],
        queue: asyncio.Queue[WorkItem | None],
        builder: ReportBuilder | None,
        plan: list[dict[str, Any]] | None = None,
    ) -> None:
        try:
            async for page in self._source().pages():
                for trace, pending, earlier in await self._pending(page, metrics):
                    self.progress.traces_seen += 1
                    self.progress.judgments_skipped += len(metrics) - len(pending)
                    self.progress.judgments_total += len(pending)
                    if builder is not None:
                        builder.add_seen(trace, pending, earlier)
                    if plan is not None:
                        if pending:
                            plan.append({"trace": trace, "metrics": pending})
                        continue
                    for metric in pending:
                        await queue.put((trace, metric))
                await self._notify()
        except EvaluationError:
            raise
        except Exception as exc:
            raise EvaluationError(f"reading traces failed: {type(exc).__name__}: {exc}") from exc
        self.progress.source_exhausted = True
        await self._notify()

    async def _judge_one(
        self, judge: Judge, trace: TraceRecord, metric: MetricDefinition
    ) -> Judgment:
        return await judge_one(judge, trace, metric)

    async def _store(
        self,
        judge: Judge,
        trace: TraceRecord,
        metric: MetricDefinition,
        judgment: Judgment,
        builder: ReportBuilder,
    ) -> None:
        meta = judgment_metadata(metric, judgment, judge.name, judge.offline)
        client = self._client()
        if client is not None and trace.has_langfuse_trace:
            try:
                push_langfuse_score(client, trace, metric, judgment, meta)
                builder.storage["langfuse_scores_queued"] += 1
            except Exception:
                builder.storage["errors"] += 1
                logger.warning("evaluation.langfuse_score_failed", exc_info=True)
        if trace.run_id is not None and self._db_ok:
            try:
                await save_evaluation(self._session_maker(), trace.run_id, metric, judgment, meta)
                builder.storage["db_rows_written"] += 1
            except Exception:
                builder.storage["errors"] += 1
                logger.warning(
                    "evaluation.db_write_failed", run_id=str(trace.run_id), exc_info=True
                )

    async def _worker(
        self, queue: asyncio.Queue[WorkItem | None], judge: Judge, builder: ReportBuilder
    ) -> None:
        while (item := await queue.get()) is not None:
            trace, metric = item
            try:
                judgment = await self._judge_one(judge, trace, metric)
                if judgment.ok:
                    await self._store(judge, trace, metric, judgment, builder)
            except Exception as exc:  # a dead worker would stall the producer on a full queue
                logger.exception("evaluation.worker_error", metric=metric.name)
                judgment = Judgment(
                    trace_id=trace.trace_id, metric=metric.name, error=f"internal error: {exc}"
                )
            builder.add(judgment)
            self.progress.judgments_done += 1
            self.progress.judgments_failed += 0 if judgment.ok or judgment.not_applicable else 1
            await self._notify()

    async def _flush_langfuse(self) -> None:
        client = self._client()
        if client is None:
            return
        timeout = max(10.0, settings.LANGFUSE_SHUTDOWN_TIMEOUT_SECONDS)
        try:
            await asyncio.wait_for(asyncio.to_thread(client.flush), timeout)
        except Exception:
            logger.warning("evaluation.langfuse_flush_failed", timeout_s=timeout, exc_info=True)

    async def _calibration(self, metrics: list[MetricDefinition]) -> dict[str, Any] | None:
        if not self._db_ok:
            return None
        try:
            async with self._session_maker()() as session:
                return {
                    m.name: calibration_summary(
                        m,
                        await labelled_pairs(session, m, self._judge_name, self._client()),
                        settings.EVALUATION_CALIBRATION_MIN_RUNS,
                        self._judge_name,
                    )
                    for m in metrics
                }
        except Exception:
            logger.warning("evaluation.calibration_failed", exc_info=True)
            return None

    async def run(self, *, generate_report_file: bool = True) -> dict[str, Any]:
        """Evaluate every unscored (trace, metric) in the window and return the report dict."""
        started = time.perf_counter()
        metrics = self.metrics()
        judge = self._judge or build_judge(self.options.judge)
        self._judge_name = judge.name
        builder = ReportBuilder(
            judge_name=judge.name,
            offline=judge.offline,
            metrics=metrics,
            source=self.source_name(),
            window=time_window(self.options),
            options=self.options.model_dump(mode="json"),
        )
        queue: asyncio.Queue[WorkItem | None] = asyncio.Queue(maxsize=self.options.concurrency * 4)
        workers = [
            asyncio.create_task(self._worker(queue, judge, builder))
            for _ in range(self.options.concurrency)
        ]
        try:
            await self._produce(metrics, queue, builder)
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
        except BaseException:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        finally:
            if self._judge is None:
                await judge.aclose()
        await self._flush_langfuse()
        report = builder.build(time.perf_counter() - started)
        calibration = await self._calibration(metrics)
        if calibration is not None:
            report["calibration"] = calibration
        if generate_report_file:
            await asyncio.to_thread(write_report, report, self.reports_dir)
        logger.info(
            "evaluation.completed",
            total_traces=report["total_traces"],
            failed_traces=report["failed_traces"],
            skipped_traces=report["skipped_traces"],
            duration_seconds=report["duration_seconds"],
        )
        return report

    async def plan(self) -> dict[str, Any]:
        """Dry run: what would be scored, and the estimated number of judge calls."""
        metrics = self.metrics()
        items: list[dict[str, Any]] = []
        await self._produce(metrics, asyncio.Queue(), None, plan=items)
        return {
            "source": self.source_name(),
            "window": [t.isoformat() for t in time_window(self.options)],
            "traces_seen": self.progress.traces_seen,
            "traces_to_score": len(items),
            "estimated_judge_calls": self.progress.judgments_total,
            "already_scored": self.progress.judgments_skipped,
            "items": [
                {
                    "trace_id": item["trace"].trace_id,
                    "name": item["trace"].name,
                    "timestamp": item["trace"].timestamp.isoformat()
                    if item["trace"].timestamp
                    else None,
                    "metrics": [m.name for m in item["metrics"]],
                }
                for item in items
            ],
        }
