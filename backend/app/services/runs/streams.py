"""Read a run's events: replay from a cursor, then the live tail, until the execution ends."""

import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING

from app.models import ACTIVE_RUN_STATUSES, AgentRun, utcnow
from app.services.runs import recorder
from app.services.runs.errors import BadEventIdError, QueueUnavailableError
from app.services.runs.events import EventLogUnavailableError, LoggedEvent
from app.services.runs.worker import terminal_event

if TYPE_CHECKING:
    from app.services.runs.runtime import RunRuntime

WAIT_S = 5.0  # longest wait for news before looking again
# How often a quiet stream looks at the run log, in case its run ended with no last event in
# the log (the sweep and cancels log one, so this is the rare path: keep it off the hot path).
CHECK_EVERY_S = 10.0
# The worker records a run's end, then logs its last event: only a run that ended longer ago
# than this without a last event (its worker died, or the log expired) gets one made up.
SETTLE = timedelta(seconds=2)


def _made_up_end(run: AgentRun) -> LoggedEvent:
    event = terminal_event(recorder.result_from_row(run))
    return LoggedEvent(None, event.type, event.model_dump_json())


async def follow(
    runtime: "RunRuntime", run_id: uuid.UUID, after: str | None, *, joining: bool = False
) -> AsyncIterator[LoggedEvent]:
    """Events after `after` (from the start when None) until the execution's last event.

    A client `joining` may find a run long finished, so the run log is read at once; the
    client that just started the run waits for the worker first.
    """
    cursor = after
    checked_at = 0.0 if joining else time.monotonic()
    try:
        while True:
            batch = await runtime.events.read(run_id, cursor)
            for event in batch:
                yield event
                cursor = event.id
                if event.terminal:
                    return
            if batch:
                continue
            if time.monotonic() - checked_at >= CHECK_EVERY_S:
                checked_at = time.monotonic()
                run = await recorder.read_run(run_id)
                if run is None:
                    return
                if run.status not in ACTIVE_RUN_STATUSES and (
                    run.finished_at is None
                    or run.finished_at < utcnow() - SETTLE
                    or not await runtime.events.exists(run_id)
                ):
                    if not await runtime.events.read(run_id, cursor):
                        yield _made_up_end(run)
                        return
                    continue
            await runtime.events.wait(run_id, cursor, WAIT_S)
    except EventLogUnavailableError:
        raise QueueUnavailableError("The run event log is unavailable, please retry") from None


async def join_cursor(
    runtime: "RunRuntime", run_id: uuid.UUID, last_event_id: str | None
) -> str | None:
    """Where a client joining the run starts: after its last event, or at the latest execution."""
    try:
        if last_event_id:
            if not await runtime.events.contains(run_id, last_event_id):
                raise BadEventIdError(f"{last_event_id!r} is not an event id of this run")
            return last_event_id
        return await runtime.events.latest_start(run_id)
    except EventLogUnavailableError:
        raise QueueUnavailableError("The run event log is unavailable, please retry") from None


async def wait_for_end(runtime: "RunRuntime", run_id: uuid.UUID, after: str | None) -> LoggedEvent:
    """The event that ends the run's current execution."""
    last: LoggedEvent | None = None
    async for event in follow(runtime, run_id, after):
        last = event
    if last is None or not last.terminal:
        raise QueueUnavailableError("The run ended without a result, please retry")
    return last
