"""Leases: a worker renews the lease of each run it executes; any process ends lapsed ones.

One heartbeat statement per tick renews every run this process executes, and one sweep
statement per tick (in every process, API or worker) ends runs whose worker died — so a crash
is noticed within AGENT_RUN_LEASE_SECONDS, never at the next restart.
"""

import asyncio
import contextlib
import random
import uuid
from datetime import timedelta

import structlog

from app.agents.schemas import ErrorEvent
from app.core.config import Settings
from app.core.db import SessionMaker
from app.crud import agent_run as crud_run
from app.models import RunStatus
from app.services.runs.events import EventLog

logger = structlog.get_logger(__name__)


class Leases:
    """Heartbeats for the runs this process executes, and the sweep of lapsed leases."""

    def __init__(self, config: Settings, events: EventLog) -> None:
        self.settings = config
        self.events = events
        self._held: set[uuid.UUID] = set()
        self._loop: asyncio.Task[None] | None = None

    @property
    def interval(self) -> float:
        """Seconds between heartbeats: a third of the lease, so two may fail before it lapses."""
        return self.settings.AGENT_RUN_LEASE_SECONDS / 3

    def hold(self, run_id: uuid.UUID) -> None:
        """This process executes the run: keep renewing its lease."""
        self._held.add(run_id)

    def release(self, run_id: uuid.UUID) -> None:
        """Stop renewing the run's lease (it ended)."""
        self._held.discard(run_id)

    async def start(self) -> None:
        """Start the heartbeat-and-sweep loop."""
        self._loop = asyncio.create_task(self._forever())

    async def stop(self) -> None:
        """Stop the loop."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop

    async def _forever(self) -> None:
        while True:
            # Jitter spreads the sweeps of many processes over the interval.
            await asyncio.sleep(self.interval * random.uniform(0.8, 1.0))  # noqa: S311
            try:
                await self.heartbeat()
                await self.sweep()
            except Exception:
                logger.warning("runs.lease_tick_failed", exc_info=True)

    async def heartbeat(self) -> None:
        """Renew the leases of every run this process executes."""
        if not self._held:
            return
        lease = timedelta(seconds=self.settings.AGENT_RUN_LEASE_SECONDS)
        async with SessionMaker() as session:
            await crud_run.renew_leases(session=session, run_ids=list(self._held), lease=lease)

    async def sweep(self) -> int:
        """End runs whose worker died or that no worker took; log their last event."""
        queue_timeout = timedelta(seconds=self.settings.AGENT_RUN_QUEUE_TIMEOUT_SECONDS)
        async with SessionMaker() as session:
            ended = await crud_run.end_abandoned_runs(session=session, queue_timeout=queue_timeout)
        for run_id, _thread_id, status in ended:
            interrupted = status == RunStatus.interrupted
            event = ErrorEvent(
                code="interrupted" if interrupted else "unavailable",
                message="The worker running this run stopped before it finished."
                if interrupted
                else "No worker started this run in time; please retry.",
                run_id=run_id,
            )
            with contextlib.suppress(Exception):
                await self.events.append(run_id, event)
        if ended:
            logger.warning("runs.abandoned_runs_ended", count=len(ended))
        return len(ended)
