"""Calibration: Cohen's kappa by hand, the confusion matrix, and pairs read from the database."""

from typing import Any

import httpx
import pytest

from app.core import telemetry
from app.core.db import SessionMaker
from app.evaluation.calibration import (
    calibration_summary,
    cohen_kappa,
    confusion,
    interpret,
    kappa_interval,
    labelled_pairs,
)
from app.evaluation.metrics import load_metrics
from app.evaluation.schemas import MetricDefinition
from app.models import AgentEvaluation, AgentFeedback
from tests.evaluation.helpers import create_run
from tests.fakes.langfuse import LangfuseFake
from tests.utils import create_user


def pairs_from(
    both_pass: int, human_only: int, judge_only: int, both_fail: int
) -> list[tuple[bool, bool]]:
    """(human_pass, judge_pass) pairs for a 2x2 table."""
    return (
        [(True, True)] * both_pass
        + [(True, False)] * human_only
        + [(False, True)] * judge_only
        + [(False, False)] * both_fail
    )


def test_kappa_on_a_hand_checked_example() -> None:
    # 50 runs: 20 both pass, 5 human-only pass, 10 judge-only pass, 15 both fail.
    # p_o = 35/50 = 0.7; human pass 25/50, judge pass 30/50;
    # p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.7-0.5)/(1-0.5) = 0.4.
    pairs = pairs_from(20, 5, 10, 15)
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    summary = calibration_summary(load_metrics()["helpfulness"], pairs, min_runs=20)
    assert summary["agreement"] == pytest.approx(0.7)
    assert summary["kappa"] == pytest.approx(0.4)
    assert summary["interpretation"] == "fair"
    assert summary["confusion_matrix"] == {
        "human_pass": {"judge_pass": 20, "judge_fail": 5},
        "human_fail": {"judge_pass": 10, "judge_fail": 15},
    }
    assert summary["sufficient"] and summary["needed_more"] == 0


def test_kappa_edge_cases() -> None:
    assert cohen_kappa(pairs_from(10, 0, 0, 10)) == pytest.approx(1.0)
    # Always disagreeing with balanced labels is worse than chance.
    assert cohen_kappa(pairs_from(0, 5, 5, 0)) == pytest.approx(-1.0)
    # 90% raw agreement that is pure chance: both raters say "pass" 90% of the time, independently.
    chance = pairs_from(81, 9, 9, 1)
    assert cohen_kappa(chance) == pytest.approx(0.0)
    assert cohen_kappa([]) is None
    assert cohen_kappa(pairs_from(5, 0, 0, 0)) is None  # one label only: kappa undefined
    assert interpret(None) == "undefined" and interpret(0.9) == "almost perfect"
    assert interpret(-0.2).startswith("poor") and interpret(0.5) == "moderate"
    assert confusion([]) == {
        "human_pass": {"judge_pass": 0, "judge_fail": 0},
        "human_fail": {"judge_pass": 0, "judge_fail": 0},
    }


def test_too_few_labelled_runs_says_how_many_more() -> None:
    summary = calibration_summary(load_metrics()["toxicity"], pairs_from(2, 0, 1, 0), min_runs=20)
    assert not summary["sufficient"] and summary["needed_more"] == 17
    assert summary["message"] == "need 17 more labelled run(s) for toxicity (have 3, want 20)"


def judged(
    run_id: Any, metric: MetricDefinition, score: float, judge_model: str = "gpt-4o-mini"
) -> AgentEvaluation:
    """A judge's row for the metric's current prompt version."""
    return AgentEvaluation(
        run_id=run_id,
        metric_name=metric.name,
        judge_model=judge_model,
        prompt_version=metric.version,
        score=score,
    )


async def test_labelled_pairs_join_feedback_and_judge_scores() -> None:
    owner, _ = await create_user()
    other, _ = await create_user()
    helpfulness = load_metrics()["helpfulness"]  # threshold 0.6, higher is better
    runs = [await create_run(owner.id) for _ in range(4)]
    async with SessionMaker() as session:
        # run0: judge pass, human up; run1: judge fail, human up; run2: judge fail, tie (dropped);
        # run3: no judge score (dropped).
        for run, score in ((runs[0], 0.9), (runs[1], 0.2), (runs[2], 0.1)):
            session.add(judged(run.id, helpfulness, score))
        session.add(judged(runs[1].id, load_metrics()["toxicity"], 0.9))
        # Another judge's and an older prompt version's scores are not this judge's.
        session.add(judged(runs[3].id, helpfulness, 0.9, judge_model="other-model"))
        session.add(
            AgentEvaluation(
                run_id=runs[3].id,
                metric_name="helpfulness",
                judge_model="gpt-4o-mini",
                prompt_version="old",
                score=0.9,
            )
        )
        session.add(AgentFeedback(run_id=runs[0].id, user_id=owner.id, score=1))
        session.add(AgentFeedback(run_id=runs[1].id, user_id=owner.id, score=1))
        session.add(AgentFeedback(run_id=runs[2].id, user_id=owner.id, score=1))
        session.add(AgentFeedback(run_id=runs[2].id, user_id=other.id, score=-1))
        session.add(AgentFeedback(run_id=runs[3].id, user_id=owner.id, score=-1))
        await session.commit()
        pairs = await labelled_pairs(session, helpfulness, "gpt-4o-mini")
    assert sorted(pairs) == [(True, False), (True, True)]


def test_kappa_confidence_interval_on_the_hand_checked_example() -> None:
    # (T,T), (F,F), (F,T): p_o = 2/3, p_e = 4/9, kappa = 0.4;
    # SE = sqrt(p_o (1 - p_o) / (n (1 - p_e)^2)) = sqrt((2/9) / (3 * 25/81)) = sqrt(0.24)
    pairs = [(True, True), (False, False), (False, True)]
    low, high = kappa_interval(pairs) or (0.0, 0.0)
    assert low == pytest.approx(0.4 - 1.959964 * 0.24**0.5)
    assert high == 1.0  # clamped
    assert kappa_interval([(True, True)] * 3) is None  # kappa undefined
    summary = calibration_summary(load_metrics()["toxicity"], pairs, min_runs=2, judge_model="m")
    assert summary["kappa_ci95"] == [round(low, 4), 1.0]
    assert summary["judge_model"] == "m" and summary["prompt_version"].startswith("sha256:")


async def test_a_thumb_labels_only_helpfulness() -> None:
    owner, _ = await create_user()
    toxicity, helpfulness = load_metrics()["toxicity"], load_metrics()["helpfulness"]
    run = await create_run(owner.id, response="We could not find that.")
    async with SessionMaker() as session:
        session.add(judged(run.id, toxicity, 0.0))  # the judge: not toxic (a pass)
        session.add(judged(run.id, helpfulness, 0.2))  # the judge: unhelpful (a fail)
        session.add(AgentFeedback(run_id=run.id, user_id=owner.id, score=-1))
        await session.commit()
        # The thumbs-down is about helpfulness; it is no "human: toxic" label.
        assert await labelled_pairs(session, toxicity, "gpt-4o-mini") == []
        assert await labelled_pairs(session, helpfulness, "gpt-4o-mini") == [(False, False)]


async def test_langfuse_annotations_named_like_a_metric_are_its_human_labels(
    langfuse_on: LangfuseFake,
) -> None:
    owner, _ = await create_user()
    toxicity = load_metrics()["toxicity"]  # lower is better, threshold 0.2
    runs = [await create_run(owner.id, trace_id=f"{index:032x}") for index in (1, 2, 3)]
    auth = (langfuse_on.public_key, langfuse_on.secret_key)
    async with httpx.AsyncClient(base_url=langfuse_on.url, auth=auth) as http:
        for run, value in ((runs[0], 0.9), (runs[1], 0.0)):  # a human: toxic; not toxic
            response = await http.post(
                "/api/public/scores",
                json={
                    "traceId": run.trace_id,
                    "name": "toxicity",
                    "value": value,
                    "dataType": "NUMERIC",
                    "source": "ANNOTATION",
                    "configId": "toxicity-config",
                },
            )
            assert response.status_code == 200, response.text
    async with SessionMaker() as session:
        for run in runs:  # the judge said "not toxic" on all three
            session.add(judged(run.id, toxicity, 0.0))
        await session.commit()
        client = telemetry.get_langfuse()
        pairs = await labelled_pairs(session, toxicity, "gpt-4o-mini", client)
    assert sorted(pairs) == [(False, True), (True, True)]  # run 3 has no human label
