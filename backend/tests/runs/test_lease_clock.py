"""Leases are stamped and judged on one clock, PostgreSQL's: a sweeping host whose clock runs
ahead must not interrupt another host's live run, nor free its slot under the run cap."""

import uuid
from datetime import timedelta

from app.core.db import SessionMaker
from app.crud import agent_run as crud_run
from app.crud import budget as crud_budget
from app.models import AgentRun, RunStatus, utcnow
from tests.utils import create_user

LEASE = timedelta(seconds=15)


async def test_a_host_whose_clock_runs_ahead_keeps_to_the_lease(monkeypatch) -> None:
    user, _ = await create_user()
    run = crud_run.new_run(
        run_id=uuid.uuid4(),
        user_id=user.id,
        thread_id=uuid.uuid4(),
        message="a live run",
        model="offline",
        metadata={},
        trace_id=None,
    )
    async with SessionMaker() as session:
        session.add(run)
        await session.commit()
    async with SessionMaker() as session:  # the worker, its clock right
        assert await crud_run.claim_run(
            session=session, run_id=run.id, worker_id="worker-a", lease=LEASE
        )
    # Another host, a minute ahead, sweeps and counts the user's runs.
    monkeypatch.setattr(crud_run, "utcnow", lambda: utcnow() + timedelta(minutes=1))
    async with SessionMaker() as session:
        ended = await crud_run.end_abandoned_runs(session=session, queue_timeout=LEASE * 10)
        active = await crud_budget.active_runs(session=session, user_id=user.id)
    assert run.id not in {run_id for run_id, _, _ in ended}
    assert active == 1
    async with SessionMaker() as session:
        stored = await session.get(AgentRun, run.id)
    assert stored is not None and stored.status == RunStatus.running
