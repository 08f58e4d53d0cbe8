"""When this process began to stop (SIGTERM or SIGINT), for the requests that must end in time.

uvicorn has no hook before its graceful shutdown ends (for a request still open then, a
cancellation answered with a 500); sse-starlette records the signal in `AppStatus.should_exit`,
documented for this, and one watcher per process turns it into an event.
"""

import asyncio
import contextlib
import time

from sse_starlette.sse import AppStatus

POLL_S = 0.5


class ShutdownWatch:
    """Set once the server is stopping; how much of a grace is left since then."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self._since: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Watch from now on (in the running event loop)."""
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        while not self.is_stopping():  # noqa: ASYNC110 - a flag another library sets, no Event
            await asyncio.sleep(POLL_S)
        self.stopping.set()

    def is_stopping(self) -> bool:
        """Has the stop signal come? (Read from the flag, not the event, which lags a poll.)"""
        if self._since is None and AppStatus.should_exit:
            self._since = time.monotonic()
        return self._since is not None

    def left(self, grace: float) -> float:
        """Seconds left of `grace` since the stop signal; 0 without one (a process stopped
        another way, as in tests, has no grace to give)."""
        if not self.is_stopping():
            return 0.0
        assert self._since is not None
        return max(0.0, grace - (time.monotonic() - self._since))

    async def grace_over(self, grace: float) -> None:
        """Return once the server has been stopping for `grace` seconds."""
        await self.stopping.wait()
        await asyncio.sleep(self.left(grace))
