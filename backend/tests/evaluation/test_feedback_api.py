"""Human feedback on runs: one per user and run, updatable, private, mirrored to Langfuse."""

import uuid
from typing import Any

import httpx
from sqlmodel import func, select

from app.core.db import SessionMaker
from app.models import AgentFeedback
from app.services.feedback import feedback_score_id
from tests.evaluation.helpers import create_run
from tests.fakes.langfuse import LangfuseFake
from tests.utils import API, create_user_and_login


def feedback_url(run_id: Any) -> str:
    return f"{API}/agent/runs/{run_id}/feedback"


async def feedback_rows() -> int:
    async with SessionMaker() as session:
        return (await session.exec(select(func.count()).select_from(AgentFeedback))).one()


async def test_owner_gives_and_updates_feedback(
    client: httpx.AsyncClient, langfuse_off: None
) -> None:
    headers, user = await create_user_and_login(client)
    run = await create_run(user.id)

    assert (await client.get(feedback_url(run.id), headers=headers)).json() is None
    first = await client.post(feedback_url(run.id), json={"score": 1}, headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["score"] == 1 and body["comment"] is None
    assert body["run_id"] == str(run.id) and body["user_id"] == str(user.id)

    second = await client.post(
        feedback_url(run.id), json={"score": -1, "comment": "wrong items"}, headers=headers
    )
    assert second.status_code == 200
    assert second.json()["id"] == body["id"] and second.json()["score"] == -1
    assert second.json()["comment"] == "wrong items"
    assert await feedback_rows() == 1
    read = await client.get(feedback_url(run.id), headers=headers)
    assert read.json()["score"] == -1

    deleted = await client.delete(feedback_url(run.id), headers=headers)
    assert deleted.status_code == 200 and await feedback_rows() == 0
    assert (await client.delete(feedback_url(run.id), headers=headers)).status_code == 404


async def test_another_users_run_is_not_found(
    client: httpx.AsyncClient, langfuse_off: None
) -> None:
    owner_headers, owner = await create_user_and_login(client)
    other_headers, _ = await create_user_and_login(client)
    run = await create_run(owner.id)
    await client.post(feedback_url(run.id), json={"score": 1}, headers=owner_headers)

    for response in (
        await client.post(feedback_url(run.id), json={"score": -1}, headers=other_headers),
        await client.get(feedback_url(run.id), headers=other_headers),
        await client.delete(feedback_url(run.id), headers=other_headers),
        await client.post(feedback_url(uuid.uuid4()), json={"score": 1}, headers=owner_headers),
    ):
        assert response.status_code == 404 and response.json()["detail"] == "Run not found"
    assert await feedback_rows() == 1
    assert (await client.post(feedback_url(run.id), json={"score": 1})).status_code == 401


async def test_bad_feedback_is_422_with_detail(
    client: httpx.AsyncClient, langfuse_off: None
) -> None:
    headers, user = await create_user_and_login(client)
    run = await create_run(user.id)
    for payload in (
        {"score": 0},
        {"score": 2},
        {"score": "up"},
        {},
        {"score": 1, "comment": "x" * 2001},
    ):
        response = await client.post(feedback_url(run.id), json=payload, headers=headers)
        assert response.status_code == 422 and response.json()["detail"], payload
    assert (
        await client.post(
            f"{API}/agent/runs/not-a-uuid/feedback", json={"score": 1}, headers=headers
        )
    ).status_code == 422
    assert await feedback_rows() == 0


async def test_feedback_becomes_a_langfuse_score_on_the_runs_trace(
    client: httpx.AsyncClient, langfuse_on: LangfuseFake
) -> None:
    headers, user = await create_user_and_login(client)
    trace_id = uuid.uuid4().hex
    run = await create_run(user.id, trace_id=trace_id)

    await client.post(feedback_url(run.id), json={"score": 1, "comment": "great"}, headers=headers)
    score = await langfuse_on.await_for(lambda: next(iter(langfuse_on.scores(trace_id)), None), 10)
    assert score.name == "user_feedback" and score.numeric == 1.0 and score.comment == "great"
    assert score.data_type == "NUMERIC" and score.id == feedback_score_id(trace_id, user.id)

    await client.post(feedback_url(run.id), json={"score": -1}, headers=headers)
    await langfuse_on.await_for(
        lambda: [s for s in langfuse_on.scores(trace_id) if s.numeric == -1.0], 10
    )
    assert len(langfuse_on.scores(trace_id)) == 1  # the update overwrote the same score id

    # Withdrawing feedback deletes the score (DELETE /api/public/scores/{id}, in the background).
    await client.delete(feedback_url(run.id), headers=headers)
    score_path = f"/api/public/scores/{feedback_score_id(trace_id, user.id)}"
    await langfuse_on.await_for(
        lambda: [r for r in langfuse_on.requests if r.method == "DELETE" and r.path == score_path],
        10,
    )


async def test_feedback_works_while_langfuse_is_down(
    client: httpx.AsyncClient, langfuse_on: LangfuseFake, set_settings: Any
) -> None:
    from tests.fakes.background import closed_port

    set_settings(LANGFUSE_BASE_URL=f"http://127.0.0.1:{closed_port()}", LANGFUSE_TIMEOUT_SECONDS=1)
    headers, user = await create_user_and_login(client)
    run = await create_run(user.id, trace_id=uuid.uuid4().hex)
    response = await client.post(feedback_url(run.id), json={"score": -1}, headers=headers)
    assert response.status_code == 200 and response.json()["score"] == -1
    assert (await client.delete(feedback_url(run.id), headers=headers)).status_code == 200


async def test_updating_the_thumb_keeps_the_comment_unless_it_is_sent(
    client: httpx.AsyncClient, langfuse_off: None
) -> None:
    headers, user = await create_user_and_login(client)
    run = await create_run(user.id)
    url = feedback_url(run.id)
    await client.post(url, json={"score": -1, "comment": "wrong items"}, headers=headers)

    flipped = await client.post(url, json={"score": 1}, headers=headers)
    assert flipped.status_code == 200
    assert flipped.json()["score"] == 1 and flipped.json()["comment"] == "wrong items"

    cleared = await client.post(url, json={"score": 1, "comment": None}, headers=headers)
    assert cleared.json()["comment"] is None
