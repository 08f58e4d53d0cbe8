"""Per-metric human labels on feedback: validated against the metric names, stored, sent to
Langfuse as BOOLEAN annotation scores named like the metric, and read by calibration per metric."""

import uuid
from typing import Any

import httpx

from app.core import telemetry
from app.core.db import SessionMaker
from app.evaluation.calibration import calibration_summary, labelled_pairs
from app.evaluation.metrics import load_metrics
from app.services.feedback_labels import label_score_id
from tests.evaluation.helpers import create_run
from tests.evaluation.test_calibration import judged
from tests.evaluation.test_feedback_api import feedback_url
from tests.fakes.langfuse import LangfuseFake
from tests.utils import API, create_user_and_login

METRICS = load_metrics()


async def test_labels_are_stored_kept_and_limited_to_metric_names(
    client: httpx.AsyncClient, langfuse_off: None
) -> None:
    headers, user = await create_user_and_login(client)
    run = await create_run(user.id)
    url = feedback_url(run.id)

    given = await client.post(
        url,
        json={"score": -1, "labels": {"hallucination": "fail", "conciseness": "pass"}},
        headers=headers,
    )
    assert given.status_code == 200, given.text
    assert given.json()["labels"] == {"hallucination": "fail", "conciseness": "pass"}
    # A thumb re-sent without labels keeps them; labels sent replace them.
    kept = await client.post(url, json={"score": -1, "comment": "made up"}, headers=headers)
    assert kept.json()["labels"] == {"hallucination": "fail", "conciseness": "pass"}
    replaced = await client.post(url, json={"score": -1, "labels": {}}, headers=headers)
    assert replaced.json()["labels"] == {}
    assert (await client.get(url, headers=headers)).json()["labels"] == {}

    unknown = await client.post(
        url,
        json={"score": -1, "labels": {"hallucination": "fail", "vibes": "fail"}},
        headers=headers,
    )
    assert unknown.status_code == 422
    [error] = unknown.json()["detail"]
    assert error["loc"] == ["body", "labels"] and "vibes" in error["msg"]
    assert "hallucination" in error["msg"]  # the message lists what is allowed
    reference = await client.post(
        url, json={"score": -1, "labels": {"correctness": "fail"}}, headers=headers
    )
    assert reference.status_code == 422  # experiments only: no expected output on a chat run
    bad_value = await client.post(
        url, json={"score": -1, "labels": {"toxicity": "maybe"}}, headers=headers
    )
    assert bad_value.status_code == 422 and bad_value.json()["detail"][0]["loc"][:2] == [
        "body",
        "labels",
    ]
    bad_name = await client.post(
        url, json={"score": -1, "labels": {"Not A Name": "fail"}}, headers=headers
    )
    assert bad_name.status_code == 422
    assert (await client.get(url, headers=headers)).json()["labels"] == {}


async def test_label_metrics_endpoint_lists_the_trace_metrics(
    client: httpx.AsyncClient, normal_user_token_headers: dict[str, str]
) -> None:
    response = await client.get(f"{API}/agent/feedback/metrics", headers=normal_user_token_headers)
    assert response.status_code == 200
    names = [m["name"] for m in response.json()["data"]]
    assert names == ["conciseness", "hallucination", "helpfulness", "relevancy", "toxicity"]
    assert all(m["description"] for m in response.json()["data"])
    assert (await client.get(f"{API}/agent/feedback/metrics")).status_code == 401


async def test_labels_become_langfuse_annotations_that_calibration_reads(
    client: httpx.AsyncClient, langfuse_on: LangfuseFake
) -> None:
    headers, user = await create_user_and_login(client)
    trace_id = uuid.uuid4().hex
    run = await create_run(user.id, trace_id=trace_id)
    hallucination, toxicity = METRICS["hallucination"], METRICS["toxicity"]

    response = await client.post(
        feedback_url(run.id),
        json={"score": -1, "labels": {"hallucination": "fail", "toxicity": "pass"}},
        headers=headers,
    )
    assert response.status_code == 200

    def annotations() -> list[Any]:
        return [s for s in langfuse_on.scores(trace_id) if s.source == "ANNOTATION"]

    found = await langfuse_on.await_for(
        lambda: annotations() if len(annotations()) == 2 else None, 10
    )
    by_name = {s.name: s for s in found}
    assert by_name["hallucination"].data_type == "BOOLEAN" and by_name["hallucination"].numeric == 0
    assert by_name["toxicity"].numeric == 1
    assert by_name["toxicity"].id == label_score_id(trace_id, "toxicity", user.id)
    configs = langfuse_on.store.datasets.score_configs.values()
    assert {(c.name, c.data_type) for c in configs} == {
        ("hallucination", "BOOLEAN"),
        ("toxicity", "BOOLEAN"),
    }
    assert {s.config_id for s in found} == {c.id for c in configs}

    # Calibration reads them from Langfuse as this metric's human label (BOOLEAN 0 = fail even
    # though hallucination is lower-is-better), with the database rows left out of the way.
    async with SessionMaker() as session:
        session.add(judged(run.id, hallucination, 0.0))  # the judge: no hallucination (pass)
        session.add(judged(run.id, toxicity, 0.0))  # the judge: not toxic (pass)
        await session.commit()
        client_lf = telemetry.get_langfuse()
        assert await labelled_pairs(session, hallucination, "gpt-4o-mini", client_lf) == [
            (False, True)
        ]
        assert await labelled_pairs(session, toxicity, "gpt-4o-mini", client_lf) == [(True, True)]

    # Taking a label back deletes its annotation.
    await client.post(
        feedback_url(run.id), json={"score": -1, "labels": {"toxicity": "pass"}}, headers=headers
    )
    await langfuse_on.await_for(lambda: len(annotations()) == 1 or None, 10)
    assert [s.name for s in annotations()] == ["toxicity"]


async def test_kappa_per_metric_from_per_metric_labels(
    client: httpx.AsyncClient, langfuse_off: None
) -> None:
    headers, user = await create_user_and_login(client)
    hallucination, toxicity, helpfulness = (
        METRICS["hallucination"],
        METRICS["toxicity"],
        METRICS["helpfulness"],
    )
    # Eight runs, all thumbed down; the judge says "no hallucination" on the first four and
    # "hallucinated" on the last four; people label hallucination on all eight (agreeing on 6).
    human = ["pass", "pass", "pass", "fail", "fail", "fail", "fail", "pass"]
    runs = [await create_run(user.id, message=f"q{i}") for i in range(8)]
    async with SessionMaker() as session:
        for index, run in enumerate(runs):
            session.add(judged(run.id, hallucination, 0.0 if index < 4 else 1.0))
            session.add(judged(run.id, toxicity, 0.0))  # never toxic, per the judge
            session.add(judged(run.id, helpfulness, 0.9))
        await session.commit()
    for run, label in zip(runs, human, strict=True):
        labels = {"hallucination": label}
        if run is runs[0]:
            labels["helpfulness"] = "pass"  # a label wins over the thumb for its metric
        response = await client.post(
            feedback_url(run.id), json={"score": -1, "labels": labels}, headers=headers
        )
        assert response.status_code == 200

    async with SessionMaker() as session:
        pairs = await labelled_pairs(session, hallucination, "gpt-4o-mini")
        summary = calibration_summary(hallucination, pairs, 4, "gpt-4o-mini")
        # The thumbs-down labels no toxicity: the judge's "not toxic" has no human to disagree.
        assert await labelled_pairs(session, toxicity, "gpt-4o-mini") == []
        helpful = await labelled_pairs(session, helpfulness, "gpt-4o-mini")
    # Hand count: both pass 3, human pass / judge fail 1, human fail / judge pass 1, both fail 3:
    # p_o = 6/8, p_e = 0.5 * 0.5 + 0.5 * 0.5 = 0.5, kappa = (0.75 - 0.5) / 0.5 = 0.5.
    assert summary["confusion_matrix"] == {
        "human_pass": {"judge_pass": 3, "judge_fail": 1},
        "human_fail": {"judge_pass": 1, "judge_fail": 3},
    }
    assert summary["kappa"] == 0.5 and summary["kappa_ci95"] is not None
    low, high = summary["kappa_ci95"]
    assert low < 0.5 < high
    assert sorted(helpful) == [(False, True)] * 7 + [(True, True)]
