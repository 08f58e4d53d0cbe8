"""Compare two experiment runs of a dataset: per-metric paired deltas with a bootstrap interval.

The interval is a paired bootstrap (percentile method, 2,000 resamples of the items both runs
answered, fixed seed so a CI re-run prints the same numbers): no normality assumption, which
matters for scores piled up at 0 and 1. Hand-written (a dozen lines) rather than adding SciPy.
"""

import random
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.crud import evaluation as crud_evaluation
from app.evaluation.datasets import DatasetStore, ExperimentRunRecord
from app.evaluation.schemas import MetricDefinition
from app.evaluation.sources import langfuse_existing_scores

RESAMPLES = 2000
SEED = 17
ItemScores = dict[str, dict[str, float]]  # item id -> metric -> score


def run_metrics(
    run: ExperimentRunRecord, available: dict[str, MetricDefinition]
) -> list[MetricDefinition]:
    """The metrics the run was judged with, at the prompt versions it used."""
    versions = run.metadata.get("prompt_versions") or {}
    return [
        available[name].model_copy(update={"version": str(version)})
        for name, version in versions.items()
        if name in available
    ]


async def run_scores(
    store: DatasetStore,
    run: ExperimentRunRecord,
    metrics: list[MetricDefinition],
    sessions: async_sessionmaker[AsyncSession],
    langfuse: Any | None,
) -> ItemScores:
    """Each item's scores in the run by the run's judge and prompt versions: from Langfuse
    scores when the dataset lives there, from `agent_evaluation` rows otherwise."""
    judge_model = str(run.metadata.get("judge_model", ""))
    scores: ItemScores = {}
    if store.kind == "langfuse" and langfuse is not None:
        by_trace = {i.trace_id: i.item_id for i in run.items if i.trace_id}
        found = await langfuse_existing_scores(langfuse, list(by_trace), metrics, judge_model)
        for (trace_id, metric), value in found.items():
            scores.setdefault(by_trace[trace_id], {})[metric] = value
        return scores
    by_run: dict[uuid.UUID, str] = {i.run_id: i.item_id for i in run.items if i.run_id}
    async with sessions() as session:
        rows = await crud_evaluation.judge_scores(
            session=session,
            run_ids=list(by_run),
            versions={m.name: m.version for m in metrics},
            judge_model=judge_model,
        )
    for run_id, metric, value in rows:
        scores.setdefault(by_run[run_id], {})[metric] = value
    return scores


def bootstrap_interval(
    deltas: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float] | None:
    """95 % percentile interval of the mean of paired deltas (None below two pairs)."""
    n = len(deltas)
    if n < 2:
        return None
    rng = random.Random(seed)  # noqa: S311 - resampling, not secrets
    means = sorted(sum(rng.choices(deltas, k=n)) / n for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def compare_runs(
    a: ItemScores,
    b: ItemScores,
    metrics: list[MetricDefinition],
    max_regression: float,
) -> list[dict[str, Any]]:
    """Per metric: the items both runs scored, mean scores, the delta B - A, the delta in
    quality (higher always better) with its interval, and whether it regressed past the limit."""
    rows = []
    for metric in metrics:
        items = sorted(
            i for i in a.keys() & b.keys() if metric.name in a[i] and metric.name in b[i]
        )
        if not items:
            rows.append(
                {
                    "metric": metric.name,
                    "paired_items": 0,
                    "regressed": False,
                    "note": "no item scored in both runs",
                }
            )
            continue
        sa = [a[i][metric.name] for i in items]
        sb = [b[i][metric.name] for i in items]
        sign = 1.0 if metric.higher_is_better else -1.0
        quality = [sign * (y - x) for x, y in zip(sa, sb, strict=True)]
        mean_quality = sum(quality) / len(quality)
        interval = bootstrap_interval(quality)
        rows.append(
            {
                "metric": metric.name,
                "higher_is_better": metric.higher_is_better,
                "paired_items": len(items),
                "mean_a": round(sum(sa) / len(sa), 4),
                "mean_b": round(sum(sb) / len(sb), 4),
                "delta": round((sum(sb) - sum(sa)) / len(items), 4),
                "quality_delta": round(mean_quality, 4),
                "quality_delta_ci95": None if interval is None else [round(v, 4) for v in interval],
                "regressed": mean_quality < -max_regression,
            }
        )
    return rows


def comparability_warnings(a: ExperimentRunRecord, b: ExperimentRunRecord) -> list[str]:
    """Why the two runs' scores may not be comparable (another judge or prompt version)."""
    warnings = []
    if a.metadata.get("judge_model") != b.metadata.get("judge_model"):
        warnings.append(
            f"different judges: {a.metadata.get('judge_model')} vs {b.metadata.get('judge_model')}"
        )
    va, vb = a.metadata.get("prompt_versions") or {}, b.metadata.get("prompt_versions") or {}
    for name in sorted(va.keys() & vb.keys()):
        if va[name] != vb[name]:
            warnings.append(f"{name}: prompt version {va[name]} vs {vb[name]}")
    return warnings
