"""A user's data: the export holds everything they own and nothing of anyone else's; deleting
the account erases checkpoints, runs and Langfuse traces."""

import io
import json
import uuid
import zipfile
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import col, select

from app.core import telemetry
from app.core.config import settings
from app.core.db import SessionMaker
from app.models import AgentFeedback, AgentRun, AgentThread
from tests.fakes.langfuse import LangfuseFake
from tests.support.checkpoints import checkpoint_rows
from tests.utils import API, create_item, create_user_and_login

HOOK = "http://127.0.0.1:9/hook"  # never reached: the post waits for an approval


async def seed(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    """A user with an item, a two-turn thread, feedback, and a run awaiting approval."""
    headers, user = await create_user_and_login(client)
    item = await create_item(user.id, title=f"{name} lamp")
    first = await client.post(
        f"{API}/agent/run", json={"message": f"{name} asks: show my items"}, headers=headers
    )
    assert first.status_code == 200, first.text
    thread_id = first.json()["thread_id"]
    second = await client.post(
        f"{API}/agent/run",
        json={"message": f"{name} asks again", "thread_id": thread_id},
        headers=headers,
    )
    assert second.status_code == 200, second.text
    feedback = await client.post(
        f"{API}/agent/runs/{first.json()['run_id']}/feedback",
        json={"score": 1, "comment": f"{name} liked it"},
        headers=headers,
    )
    assert feedback.status_code == 200, feedback.text
    paused = await client.post(
        f"{API}/agent/run", json={"message": f'post "{name} secret" to {HOOK}'}, headers=headers
    )
    assert paused.json()["status"] == "awaiting_approval", paused.text
    return {
        "headers": headers,
        "user": user,
        "item": item,
        "thread_id": thread_id,
        "run_ids": [first.json()["run_id"], second.json()["run_id"], paused.json()["run_id"]],
        "approval_id": paused.json()["pending_approval"]["approval_id"],
        "paused_thread": paused.json()["thread_id"],
        "name": name,
    }


def unzip(content: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        return {name: json.loads(archive.read(name)) for name in archive.namelist()}


async def test_export_holds_what_the_user_owns_and_nothing_else(client, monkeypatch) -> None:
    monkeypatch.setattr(settings, "AGENT_HTTP_ALLOWED_HOSTS", ["127.0.0.1"])
    alice = await seed(client, "Alice")
    bob = await seed(client, "Bob")

    response = await client.get(f"{API}/users/me/export", headers=alice["headers"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    files = unzip(response.content)

    assert files["profile.json"]["email"] == alice["user"].email
    assert "hashed_password" not in json.dumps(files["profile.json"])
    assert [i["title"] for i in files["items.json"]] == ["Alice lamp"]
    assert sorted(r["id"] for r in files["runs.json"]) == sorted(alice["run_ids"])
    assert all("worker_id" not in r for r in files["runs.json"])
    assert [f["comment"] for f in files["feedback.json"]] == ["Alice liked it"]
    assert [a["id"] for a in files["approvals.json"]] == [alice["approval_id"]]
    assert files["approvals.json"][0]["args"]["url"] == HOOK
    threads = {name for name in files if name.startswith("threads/")}
    assert threads == {
        f"threads/{alice['thread_id']}.json",
        f"threads/{alice['paused_thread']}.json",
    }
    thread = files[f"threads/{alice['thread_id']}.json"]
    users = [m["content"] for m in thread["messages"] if m["role"] == "user"]
    assert users == ["Alice asks: show my items", "Alice asks again"]
    assert any("Alice lamp" in (m["content"] or "") for m in thread["messages"])
    assert thread["context_summary"] is None  # short threads have no summary
    manifest = files["manifest.json"]
    assert manifest["user_id"] == str(alice["user"].id)
    assert manifest["counts"] == {
        "items": 1,
        "runs": 3,
        "feedback": 1,
        "approvals": 1,
        "api_keys": 0,
        "evaluations": 0,
        "threads": 2,
    }

    everything = json.dumps(files)
    for foreign in (
        bob["user"].email,
        "Bob",
        bob["thread_id"],
        bob["paused_thread"],
        bob["approval_id"],
        *bob["run_ids"],
        str(bob["item"].id),
    ):
        assert foreign not in everything, foreign

    assert (await client.get(f"{API}/users/me/export")).status_code == 401


async def test_deleting_the_account_erases_checkpoints_runs_and_traces(
    client, langfuse_fake: LangfuseFake, monkeypatch
) -> None:
    for name, value in {
        "LANGFUSE_ENABLED": True,
        "LANGFUSE_PUBLIC_KEY": langfuse_fake.public_key,
        "LANGFUSE_SECRET_KEY": langfuse_fake.secret_key,
        "LANGFUSE_BASE_URL": langfuse_fake.url,
        "LANGFUSE_SAMPLE_RATE": 1.0,
    }.items():
        monkeypatch.setattr(settings, name, value)
    monkeypatch.setattr(settings, "AGENT_HTTP_ALLOWED_HOSTS", ["127.0.0.1"])
    try:
        alice = await seed(client, "Alice")
        bob = await seed(client, "Bob")
        async with SessionMaker() as session:
            traces = {
                run.id: run.trace_id
                for run in (await session.exec(select(AgentRun))).all()
                if run.trace_id
            }
        alice_traces = [traces[uuid.UUID(r)] for r in alice["run_ids"]]
        bob_traces = [traces[uuid.UUID(r)] for r in bob["run_ids"]]
        telemetry.flush_telemetry()
        for trace_id in alice_traces + bob_traces:
            await langfuse_fake.await_trace(trace_id)
        assert checkpoint_rows(alice["thread_id"])["checkpoints"] > 0

        deleted = await client.delete(f"{API}/users/me", headers=alice["headers"])
        assert deleted.status_code == 200, deleted.text

        for thread_id in (alice["thread_id"], alice["paused_thread"]):
            assert set(checkpoint_rows(thread_id).values()) == {0}, thread_id
        assert checkpoint_rows(bob["thread_id"])["checkpoints"] > 0
        async with SessionMaker() as session:
            for model, owner in (
                (AgentRun, AgentRun.user_id),
                (AgentThread, AgentThread.user_id),
                (AgentFeedback, AgentFeedback.user_id),
            ):
                count = select(func.count()).select_from(model)
                assert (await session.exec(count.where(col(owner) == alice["user"].id))).one() == 0
                assert (await session.exec(count.where(col(owner) == bob["user"].id))).one() > 0
        assert sorted(langfuse_fake.deleted_trace_ids) == sorted(alice_traces)
        for trace_id in alice_traces:
            assert langfuse_fake.trace(trace_id) is None
        for trace_id in bob_traces:
            assert langfuse_fake.trace(trace_id) is not None
        delete_calls = [r for r in langfuse_fake.requests if r.method == "DELETE"]
        assert [r.path for r in delete_calls] == ["/api/public/traces"]
        assert all(r.status == 200 for r in delete_calls)
    finally:
        monkeypatch.setattr(settings, "LANGFUSE_SHUTDOWN_TIMEOUT_SECONDS", 2.0)
        await telemetry.shutdown_telemetry()
