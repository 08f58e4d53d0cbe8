"""Per-user budgets from real `agent_run` rows: daily tokens, concurrent runs."""

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.core.config import settings
from app.core.db import SessionMaker
from app.models import AgentRun, RunStatus
from app.services.budget import (
    BudgetExceededError,
    check_agent_budgets,
    insert_within_budgets,
    next_utc_midnight,
)
from tests.utils import API, create_user_and_login


async def add_run(
    user_id: uuid.UUID,
    *,
    tokens: int = 0,
    status: str = RunStatus.success,
    created_at: datetime | None = None,
    lease_expires_at: datetime | None = None,
) -> None:
    """Insert one run-log row."""
    async with SessionMaker() as session:
        session.add(
            AgentRun(
                user_id=user_id,
                thread_id=uuid.uuid4(),
                input="earlier run",
                status=status,
                total_tokens=tokens,
                created_at=created_at or datetime.now(UTC),
                lease_expires_at=lease_expires_at,
            )
        )
        await session.commit()


async def run(client, headers, path: str = "/agent/run"):
    return await client.post(f"{API}{path}", json={"message": "hello"}, headers=headers)


async def test_daily_token_budget_counts_todays_runs(client, monkeypatch) -> None:
    monkeypatch.setattr(settings, "AGENT_DAILY_TOKEN_BUDGET", 1000)
    headers_a, user_a = await create_user_and_login(client)
    headers_b, user_b = await create_user_and_login(client)
    now = datetime.now(UTC)
    yesterday = next_utc_midnight(now) - timedelta(days=1, seconds=1)
    await add_run(user_a.id, tokens=600)
    await add_run(user_a.id, tokens=400)
    await add_run(user_b.id, tokens=5000, created_at=yesterday)  # yesterday's don't count
    await add_run(user_b.id, tokens=999)

    refused = await run(client, headers_a)
    assert refused.status_code == 429, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("Daily token budget exhausted: 1000 of 1000 tokens used today.")
    assert f"resets at {next_utc_midnight(now):%Y-%m-%d} 00:00 UTC" in detail
    expected_wait = (next_utc_midnight(now) - datetime.now(UTC)).total_seconds()
    assert abs(int(refused.headers["Retry-After"]) - expected_wait) <= 5
    # The stream is refused the same way, before any event is sent.
    stream = await run(client, headers_a, "/agent/run/stream")
    assert stream.status_code == 429
    assert stream.json() == {"detail": detail, "code": "budget_exceeded"}

    # B is under budget; the run's own tokens then push B over it.
    allowed = await run(client, headers_b)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["total_tokens"] > 0
    assert (await run(client, headers_b)).status_code == 429


async def test_zero_daily_budget_means_unlimited(client, monkeypatch) -> None:
    monkeypatch.setattr(settings, "AGENT_DAILY_TOKEN_BUDGET", 0)
    headers, user = await create_user_and_login(client)
    await add_run(user.id, tokens=10_000_000)
    assert (await run(client, headers)).status_code == 200


async def test_concurrent_run_cap_counts_running_rows(client, monkeypatch) -> None:
    monkeypatch.setattr(settings, "AGENT_MAX_CONCURRENT_RUNS_PER_USER", 2)
    headers_a, user_a = await create_user_and_login(client)
    headers_b, user_b = await create_user_and_login(client)
    await add_run(user_a.id, status=RunStatus.running)
    await add_run(user_a.id, status=RunStatus.running)
    await add_run(user_a.id, status=RunStatus.success)
    # B: one live run, one whose worker died (its lease lapsed) that no longer counts.
    lapsed = datetime.now(UTC) - timedelta(seconds=1)
    await add_run(user_b.id, status=RunStatus.running)
    await add_run(user_b.id, status=RunStatus.running, lease_expires_at=lapsed)

    refused = await run(client, headers_a)
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(
        "Concurrent run limit reached: 2 of 2 runs are still running."
    )
    assert refused.headers["Retry-After"] == "5"
    assert (await run(client, headers_b)).status_code == 200


async def test_budget_day_starts_at_utc_midnight(monkeypatch) -> None:
    monkeypatch.setattr(settings, "AGENT_DAILY_TOKEN_BUDGET", 100)
    from tests.utils import create_user

    user, _ = await create_user()
    midnight = next_utc_midnight(datetime.now(UTC)) - timedelta(days=1)
    await add_run(user.id, tokens=100, created_at=midnight - timedelta(seconds=30))
    async with SessionMaker() as session:
        # Thirty seconds after midnight, the 100 tokens of 23:59:30 belong to yesterday.
        await check_agent_budgets(session, user.id, now=midnight + timedelta(seconds=30))
        with pytest.raises(BudgetExceededError) as refused:
            await check_agent_budgets(session, user.id, now=midnight - timedelta(seconds=10))
    assert refused.value.budget == "daily_tokens"
    assert refused.value.resets_at == midnight
    assert refused.value.headers == {"Retry-After": "10"}


@pytest.mark.skipif(
    os.environ.get("TEST_DATABASE") == "sqlite",
    reason="advisory locks are PostgreSQL-only; the default PostgreSQL run covers this",
)
async def test_concurrent_starts_cannot_overshoot_the_cap(monkeypatch) -> None:
    monkeypatch.setattr(settings, "AGENT_MAX_CONCURRENT_RUNS_PER_USER", 1)
    from tests.utils import create_user

    user, _ = await create_user()

    async def start() -> bool:
        """What start_new_run does: insert the run within the budgets, commit."""
        async with SessionMaker() as session:
            run = AgentRun(user_id=user.id, thread_id=uuid.uuid4(), input="x")
            try:
                await insert_within_budgets(session, run)
            except BudgetExceededError:
                return False
            await asyncio.sleep(0.05)  # widen the race window between insert and commit
            await session.commit()
            return True

    results = await asyncio.gather(*(start() for _ in range(6)))
    assert results.count(True) == 1
