"""Where judgments go: Langfuse scores (deterministic ids) and `AgentEvaluation` rows."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.crud import evaluation as crud_evaluation
from app.evaluation.schemas import Judgment, MetricDefinition, TraceRecord

# Fixed namespace: the same (trace, metric, judge model, prompt version) always maps to the same
# score id, so re-runs and --rescore overwrite in Langfuse instead of adding duplicates, while
# another judge or prompt version gets a score of its own.
SCORE_NAMESPACE = uuid.UUID("6f1d8a52-33c4-4d8e-9a51-0c8f3e2b7a10")
# Marks the scores this evaluator wrote; anything else with a metric's name (a human
# annotation, another tool's score) never counts as "already scored".
PRODUCER = "agent-eval"


def score_id(trace_id: str, name: str, *parts: str) -> str:
    """The deterministic Langfuse score id for a score name on a trace (plus optional parts)."""
    return str(uuid.uuid5(SCORE_NAMESPACE, ":".join((trace_id, name, *parts))))


def judge_score_id(trace_id: str, metric: MetricDefinition, judge_model: str) -> str:
    """The score id of a judgment: one per (trace, metric, judge model, prompt version)."""
    return score_id(trace_id, metric.name, judge_model, metric.version)


def judgment_metadata(
    metric: MetricDefinition, judgment: Judgment, judge_model: str, offline: bool
) -> dict[str, Any]:
    """What we store next to a score: enough to audit and to recompute pass/fail."""
    return {
        "producer": PRODUCER,
        "judge_model": judge_model,
        "judge": "offline" if offline else "llm",
        "prompt_version": metric.version,
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
        score_id=judge_score_id(trace.trace_id, metric, meta["judge_model"]),
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
    """Insert or update the run's row for this metric, judge model and prompt version."""
    async with sessions() as session:
        await crud_evaluation.save_judge_score(
            session=session,
            run_id=run_id,
            metric_name=metric.name,
            judge_model=meta["judge_model"],
            prompt_version=metric.version,
            score=float(judgment.score or 0.0),
            metadata={**meta, "reasoning": judgment.reasoning},
        )
