"""Retention: the newest N checkpoints per thread are kept, idle threads expire with their
checkpoints while their runs stay listed (runs on PostgreSQL and on SQLite)."""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from app.core.config import BACKEND_DIR, settings
from app.core.db import SessionMaker
from app.models import AgentThread, utcnow
from app.services.retention import apply_retention
from tests.support.checkpoints import checkpoint_rows
from tests.utils import API, create_user_and_login

PROTOCOL = settings.AGENT_PROTOCOL_PATH


async def thread_with_runs(client: Any, headers: dict[str, str], turns: int) -> str:
    thread_id = None
    for turn in range(turns):
        body = {"message": f"turn {turn}"} | ({"thread_id": thread_id} if thread_id else {})
        response = await client.post(f"{API}/agent/run", json=body, headers=headers)
        assert response.status_code == 200, response.text
        thread_id = response.json()["thread_id"]
    assert thread_id is not None
    return thread_id


def config(**update: Any) -> Any:
    return settings.model_copy(update=update)


async def test_keeps_the_newest_checkpoints(client, app) -> None:
    headers, _ = await create_user_and_login(client)
    long_thread = await thread_with_runs(client, headers, 5)
    short_thread = await thread_with_runs(client, headers, 1)
    before = checkpoint_rows(long_thread)["checkpoints"]
    short_before = checkpoint_rows(short_thread)
    assert before > 3
    saver = app.state.runs.agent.checkpointer

    dry = await apply_retention(config(AGENT_CHECKPOINT_RETENTION=3), saver, dry_run=True)
    # (other tests' threads may be in the checkpoint tables too: at least ours are counted)
    assert dry.checkpoints_deleted >= before - 3
    assert checkpoint_rows(long_thread)["checkpoints"] == before  # nothing deleted

    report = await apply_retention(
        config(AGENT_CHECKPOINT_RETENTION=3, AGENT_RETENTION_BATCH_SIZE=1), saver
    )
    assert report.checkpoints_deleted == dry.checkpoints_deleted
    assert checkpoint_rows(long_thread)["checkpoints"] == 3
    assert short_before["checkpoints"] <= 3 and checkpoint_rows(short_thread) == short_before

    # The conversation is whole, the kept history readable, and the thread goes on.
    thread = (await client.get(f"{API}/agent/threads/{long_thread}", headers=headers)).json()
    assert [m["content"] for m in thread["messages"] if m["role"] == "user"] == [
        f"turn {turn}" for turn in range(5)
    ]
    history = await client.post(
        f"{PROTOCOL}/threads/{long_thread}/history", json={"limit": 10}, headers=headers
    )
    assert history.status_code == 200 and len(history.json()) == 3
    more = await client.post(
        f"{API}/agent/run", json={"message": "again", "thread_id": long_thread}, headers=headers
    )
    assert more.json()["status"] == "success"
    again = await apply_retention(config(AGENT_CHECKPOINT_RETENTION=3), saver)
    assert again.checkpoints_deleted >= 1
    assert checkpoint_rows(long_thread)["checkpoints"] == 3


async def test_idle_threads_expire_and_their_runs_stay(client, app) -> None:
    headers, _ = await create_user_and_login(client)
    idle = await thread_with_runs(client, headers, 2)
    active = await thread_with_runs(client, headers, 1)
    async with SessionMaker() as session:
        await session.exec(
            update(AgentThread)
            .where(AgentThread.id == uuid.UUID(idle))
            .values(updated_at=utcnow() - timedelta(days=40))
        )
        await session.commit()
    saver = app.state.runs.agent.checkpointer
    ttl = config(AGENT_THREAD_TTL_DAYS=30, AGENT_CHECKPOINT_RETENTION=0)

    dry = await apply_retention(ttl, saver, dry_run=True)
    assert dry.threads_expired == 1 and checkpoint_rows(idle)["checkpoints"] > 0

    report = await apply_retention(ttl, saver)
    assert report.threads_expired == 1  # (thread rows are emptied between tests)
    assert set(checkpoint_rows(idle).values()) == {0}
    assert checkpoint_rows(active)["checkpoints"] > 0
    gone = await client.get(f"{API}/agent/threads/{idle}", headers=headers)
    assert gone.status_code == 404
    runs = (await client.get(f"{API}/agent/runs", headers=headers)).json()["data"]
    by_thread = {run["thread_id"]: run for run in runs}
    assert len([r for r in runs if r["thread_id"] == idle]) == 2
    assert by_thread[idle]["thread_deleted"] is True
    assert by_thread[active]["thread_deleted"] is False
    listed = (await client.get(f"{API}/agent/threads", headers=headers)).json()
    assert [t["thread_id"] for t in listed["data"]] == [active]


async def test_the_queued_job_prunes(client, app, agent_settings) -> None:
    headers, _ = await create_user_and_login(client)
    thread_id = await thread_with_runs(client, headers, 4)
    assert checkpoint_rows(thread_id)["checkpoints"] > 2
    agent_settings(AGENT_CHECKPOINT_RETENTION=2)
    await app.state.runs.queue.enqueue_maintenance()
    async with asyncio.timeout(10):
        # polling on purpose: the queue's worker task writes the tables, nothing to wait on
        while checkpoint_rows(thread_id)["checkpoints"] != 2:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_cli_dry_run_then_apply(client) -> None:
    headers, _ = await create_user_and_login(client)
    thread_id = await thread_with_runs(client, headers, 4)
    before = checkpoint_rows(thread_id)["checkpoints"]

    def cli(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "app.retention", *args],
            cwd=BACKEND_DIR,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    dry = await asyncio.to_thread(cli, "--dry-run", "--keep", "1")
    assert dry["dry_run"] is True and dry["checkpoints_deleted"] >= before - 1
    assert checkpoint_rows(thread_id)["checkpoints"] == before
    applied = await asyncio.to_thread(cli, "--keep", "1")
    assert applied["checkpoints_deleted"] == dry["checkpoints_deleted"]
    assert checkpoint_rows(thread_id)["checkpoints"] == 1
