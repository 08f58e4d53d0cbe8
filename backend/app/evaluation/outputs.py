"""Where judgments go: Langfuse scores (deterministic ids) and `AgentEvaluation` rows."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.evaluation.schemas import Judgment, MetricDefinition, TraceRecord
from app.models import AgentEvaluation

# Fixed namespace: the same (trace, score name) always maps to the same score id, so re-runs
# and --rescore overwrite in Langfuse instead of adding duplicates.
SCORE_NAMESPACE = uuid.UUID("6f1d8a52-33c4-4d8e-9a51-0c8f3e2b7a10")


def score_id(trace_id: str, name: str, *parts: str) -> str:
    """The deterministic Langfuse score id for a score name on a trace (plus optional parts)."""
    return str(uuid.uuid5(SCORE_NAMESPACE, ":".join((trace_id, name, *parts))))


def judgment_metadata(
    metric: MetricDefinition, judgment: Judgment, judge_model: str, offline: bool
) -> dict[str, Any]:
    """What we store next to a score: enough to audit and to recompute pass/fail."""
    return {
        "judge_model": judge_model,
        "judge": "offline" if offline else "llm",
        "metric_version": metric.version,
        "passed": judgment.passed,
        "threshold": metric.threshold,
        "higher_is_better": metric.higher_is_better,
        "input_tokens": judgment.usage.input_tokens,
        "output_tokens": judgment.usage.output_tokens,
        "cost_usd": judgment.usage.cost_usd,
    }


def push_langfuse_score(
    client: Any,
    trace: TraceRecord,
    metric: MetricDefinition,
    judgment: Judgment,
    meta: dict[str, Any],
) -> None:
    """Queue a NUMERIC score on the trace (the SDK batches and retries in its own thread)."""
    client.create_score(
        name=metric.name,
        value=float(judgment.score or 0.0),
        trace_id=trace.trace_id,
        score_id=score_id(trace.trace_id, metric.name),
        data_type="NUMERIC",
        comment=judgment.reasoning,
        metadata=meta,
        # Langfuse overwrites a score with the same id *and date*: pin the date to the trace's.
        timestamp=trace.timestamp,
    )


async def save_evaluation(
    sessions: async_sessionmaker[AsyncSession],
    run_id: uuid.UUID,
    metric: MetricDefinition,
    judgment: Judgment,
    meta: dict[str, Any],
) -> None:
    """Insert or update the run's row for this metric (one row per run and metric)."""
    async with sessions() as session:
        existing = (
            await session.exec(
                select(AgentEvaluation)
                .where(AgentEvaluation.run_id == run_id)
                .where(AgentEvaluation.metric_name == metric.name)
            )
        ).first()
        row = existing or AgentEvaluation(run_id=run_id, metric_name=metric.name, score=0.0)
        row.score = float(judgment.score or 0.0)
        row.eval_metadata = {**meta, "reasoning": judgment.reasoning}
        session.add(row)
        await session.commit()
