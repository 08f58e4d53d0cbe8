"""The retention job through the queue across processes: a worker's own loop claims the
interval in Redis, queues the job on the Redis Stream, and a worker executes it."""

import asyncio
import subprocess
from collections.abc import Iterator

import pytest

from app.core.config import settings
from app.core.redis import close_redis, get_redis, open_redis
from app.services.retention import CLAIM_KEY, claim_interval
from tests.support.checkpoints import checkpoint_rows
from tests.support.processes import child_env, start_run_worker, stop, wait_log_line
from tests.support.redis import RedisServer
from tests.utils import API, create_user_and_login


@pytest.fixture(scope="module")
def retention_worker(
    runs_redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen[bytes]]:
    """A worker that queues the retention job every second and keeps 2 checkpoints."""
    env = child_env(
        REDIS_URL=runs_redis.url.replace("/0", "/1"),
        AGENT_CHECKPOINT_RETENTION="2",
        AGENT_RETENTION_INTERVAL_SECONDS="1",
    )
    logs = tmp_path_factory.mktemp("retention")
    worker = start_run_worker(env, logs / "worker.log")
    try:
        wait_log_line(worker, logs / "worker.log", "worker.ready")
        yield worker
    finally:
        stop([worker])


async def test_a_worker_prunes_on_its_own_schedule(client, retention_worker) -> None:
    headers, _ = await create_user_and_login(client)
    thread_id = None
    for turn in range(4):  # runs in this test's own app, which keeps every checkpoint
        body = {"message": f"turn {turn}"} | ({"thread_id": thread_id} if thread_id else {})
        response = await client.post(f"{API}/agent/run", json=body, headers=headers)
        assert response.status_code == 200, response.text
        thread_id = response.json()["thread_id"]
    assert thread_id is not None
    async with asyncio.timeout(30):
        # polling on purpose: another process deletes the rows
        while checkpoint_rows(thread_id)["checkpoints"] != 2:  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def test_one_process_claims_each_interval(runs_redis, monkeypatch) -> None:
    monkeypatch.setattr(settings, "REDIS_URL", runs_redis.url)
    await open_redis()
    try:
        redis = get_redis()
        assert redis is not None
        await redis.delete(CLAIM_KEY)
        config = settings.model_copy(update={"AGENT_RETENTION_INTERVAL_SECONDS": 5.0})
        claims = [await claim_interval(config, f"process-{n}") for n in range(3)]
        assert claims == [True, False, False]
        assert await redis.get(CLAIM_KEY) == b"process-0"
        assert 0 < await redis.ttl(CLAIM_KEY) <= 5
    finally:
        await close_redis()
