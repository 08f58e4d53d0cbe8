"""Judge-vs-human calibration: agreement, Cohen's kappa and the confusion matrix on the same runs.

Kappa is a dozen lines of arithmetic; hand-written rather than pulling scikit-learn into the app.
"""

import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.crud import evaluation as crud_evaluation
from app.evaluation.schemas import MetricDefinition
from app.evaluation.sources import langfuse_human_labels

THUMB_METRIC = "helpfulness"  # the only metric the overall thumb is a label for
Z_95 = 1.959964
# Landis & Koch (1977) bands, the usual reading of kappa.
_BANDS = ((0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial"))


def confusion(pairs: Sequence[tuple[bool, bool]]) -> dict[str, dict[str, int]]:
    """Counts of (human, judge) outcomes; each pair is (human_pass, judge_pass)."""
    matrix = {
        "human_pass": {"judge_pass": 0, "judge_fail": 0},
        "human_fail": {"judge_pass": 0, "judge_fail": 0},
    }
    for human, judge in pairs:
        matrix["human_pass" if human else "human_fail"][
            "judge_pass" if judge else "judge_fail"
        ] += 1
    return matrix


def cohen_kappa(pairs: Sequence[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa for two raters on a pass/fail scale; None when undefined (no data, or
    both raters always gave the same single label, so chance agreement is 1)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(1 for human, judge in pairs if human == judge) / n
    human_pass = sum(1 for human, _ in pairs if human) / n
    judge_pass = sum(1 for _, judge in pairs if judge) / n
    expected = human_pass * judge_pass + (1 - human_pass) * (1 - judge_pass)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)


def kappa_interval(pairs: Sequence[tuple[bool, bool]]) -> tuple[float, float] | None:
    """An approximate 95 % confidence interval for kappa (large-sample standard error
    sqrt(p_o (1 - p_o) / (n (1 - p_e)^2)), clamped to [-1, 1]); None when kappa is undefined."""
    kappa = cohen_kappa(pairs)
    if kappa is None:
        return None
    n = len(pairs)
    observed = sum(1 for human, judge in pairs if human == judge) / n
    human_pass = sum(1 for human, _ in pairs if human) / n
    judge_pass = sum(1 for _, judge in pairs if judge) / n
    expected = human_pass * judge_pass + (1 - human_pass) * (1 - judge_pass)
    error = math.sqrt(observed * (1 - observed) / (n * (1 - expected) ** 2))
    return max(-1.0, kappa - Z_95 * error), min(1.0, kappa + Z_95 * error)


def interpret(kappa: float | None) -> str:
    """A word for a kappa value."""
    if kappa is None:
        return "undefined"
    if kappa < 0:
        return "poor (worse than chance)"
    return next((name for upper, name in _BANDS if kappa <= upper), "almost perfect")


def calibration_summary(
    metric: MetricDefinition,
    pairs: Sequence[tuple[bool, bool]],
    min_runs: int,
    judge_model: str | None = None,
) -> dict[str, Any]:
    """Everything the CLI prints and the report stores for one metric."""
    n = len(pairs)
    kappa = cohen_kappa(pairs)
    interval = kappa_interval(pairs)
    needed = max(0, min_runs - n)
    agreement = sum(1 for h, j in pairs if h == j) / n if n else None
    return {
        "metric": metric.name,
        "judge_model": judge_model,
        "prompt_version": metric.version,
        "labelled_runs": n,
        "min_runs": min_runs,
        "sufficient": needed == 0,
        "needed_more": needed,
        "message": (
            f"need {needed} more labelled run(s) for {metric.name} (have {n}, want {min_runs})"
            if needed
            else f"{n} labelled runs"
        ),
        "agreement": None if agreement is None else round(agreement, 4),
        "kappa": None if kappa is None else round(kappa, 4),
        "kappa_ci95": None if interval is None else [round(v, 4) for v in interval],
        "interpretation": interpret(kappa),
        "confusion_matrix": confusion(pairs),
    }


async def labelled_pairs(
    session: AsyncSession,
    metric: MetricDefinition,
    judge_model: str,
    langfuse: Any | None = None,
) -> list[tuple[bool, bool]]:
    """(human_pass, judge_pass) for runs with both this judge's score (current prompt version)
    and a human label for this metric.

    Human labels per metric: a feedback's label for the metric (`labels: {"toxicity": "fail"}`);
    for `helpfulness` only, the overall thumb of a feedback without such a label (several users
    combined by majority, ties left out); and a Langfuse annotation score with the metric's name
    on the run's trace, which wins. A thumbs-down says nothing about toxicity or conciseness, so
    it never labels them. The judge's pass is recomputed from the stored score.
    """
    scored = await crud_evaluation.judge_scored_runs(
        session=session,
        metric_name=metric.name,
        prompt_version=metric.version,
        judge_model=judge_model,
    )
    votes: dict[uuid.UUID, int] = defaultdict(int)
    for run_id, thumb, labels in await crud_evaluation.feedback_votes(
        session=session, run_ids=[run_id for run_id, _, _ in scored]
    ):
        label = (labels or {}).get(metric.name)
        if label in ("pass", "fail"):
            votes[run_id] += 1 if label == "pass" else -1
        elif metric.name == THUMB_METRIC:
            votes[run_id] += 1 if thumb > 0 else -1
    human = {run_id: total > 0 for run_id, total in votes.items() if total != 0}
    traced = {trace_id: run_id for run_id, trace_id, _ in scored if trace_id}
    if langfuse is not None and traced:
        annotations = await langfuse_human_labels(langfuse, list(traced), metric)
        human |= {traced[trace_id]: label for trace_id, label in annotations.items()}
    return [(human[run_id], metric.passed(score)) for run_id, _, score in scored if run_id in human]
