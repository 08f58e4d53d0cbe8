"""Judge-vs-human calibration: agreement, Cohen's kappa and the confusion matrix on the same runs.

Kappa is a dozen lines of arithmetic; hand-written rather than pulling scikit-learn into the app.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.crud import crud_evaluation
from app.evaluation.schemas import MetricDefinition
from app.models import AgentFeedback

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
        "interpretation": interpret(kappa),
        "confusion_matrix": confusion(pairs),
    }


async def labelled_pairs(
    session: AsyncSession, metric: MetricDefinition, judge_model: str
) -> list[tuple[bool, bool]]:
    """(human_pass, judge_pass) for runs with both a judge score and human feedback.

    Several users' thumbs on one run are combined by majority; ties are left out. The judge's
    pass is recomputed from the stored score and the metric's current threshold.
    """
    votes: dict[uuid.UUID, int] = defaultdict(int)
    for run_id, score in (
        await session.exec(select(AgentFeedback.run_id, AgentFeedback.score))
    ).all():
        votes[run_id] += 1 if score > 0 else -1
    decided = {run_id: total > 0 for run_id, total in votes.items() if total != 0}
    if not decided:
        return []
    rows = await crud_evaluation.judge_scores(
        session=session,
        run_ids=list(decided),
        versions={metric.name: metric.version},
        judge_model=judge_model,
    )
    judged = {run_id: metric.passed(score) for run_id, _, score in rows}
    return [(decided[run_id], judge_pass) for run_id, judge_pass in judged.items()]
