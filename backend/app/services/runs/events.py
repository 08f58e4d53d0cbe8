"""The per-run event log: every stream event with a monotonically increasing id.

With Redis, one Redis Stream per run (`XADD … MAXLEN ~ N`), so any API replica can replay and
tail any run; a run's stream expires AGENT_EVENTS_TTL_SECONDS after its last event. Without
Redis (the embedded default, one process), the same log lives in this process's memory.

Readers never hold a blocking Redis read each: one tail loop per process blocks on `XREAD` for
every run somebody is waiting on and wakes the waiters, who then read their own range. That
keeps a thousand open streams on one Redis connection instead of a thousand.
"""

import asyncio
import contextlib
import re
import time
import uuid
from abc import ABC, abstractmethod
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import structlog
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from app.agents.schemas import LoggedStreamEvent
from app.core.redis import RESILIENT

logger = structlog.get_logger(__name__)
TERMINAL_TYPES = frozenset({"run_completed", "error"})
POOL_SIZE = 64  # Redis connections of one process's event log
REDIS_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


@dataclass(frozen=True)
class LoggedEvent:
    """One event as stored: its id in the log, its type and its JSON."""

    id: str | None  # None for an event made up from the run log (the log had none)
    type: str
    data: str

    @property
    def terminal(self) -> bool:
        """Does this event end an execution of the run?"""
        return self.type in TERMINAL_TYPES


class EventLogUnavailableError(Exception):
    """The log's store (Redis) could not be reached."""


class EventLog(ABC):
    """Append-only per-run event log with replay and tail."""

    @abstractmethod
    async def append(self, run_id: uuid.UUID, event: LoggedStreamEvent) -> str:
        """Store an event; return its id."""

    @abstractmethod
    async def read(self, run_id: uuid.UUID, after: str | None) -> list[LoggedEvent]:
        """Events after the id `after` (all when None), oldest first."""

    @abstractmethod
    async def wait(self, run_id: uuid.UUID, after: str | None, wait_s: float) -> None:
        """Return when the run may have events after `after`, or after `wait_s` seconds."""

    @abstractmethod
    async def contains(self, run_id: uuid.UUID, event_id: str) -> bool:
        """Is `event_id` an id of this run's log?"""

    @abstractmethod
    async def exists(self, run_id: uuid.UUID) -> bool:
        """Does the run have a log (it may have expired)?"""

    @abstractmethod
    async def latest_start(self, run_id: uuid.UUID) -> str | None:
        """The cursor just before the latest `run_started` (where a joiner replays from)."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""


# --- in memory (embedded default) ---


@dataclass
class _MemoryRun:
    events: list[LoggedEvent] = field(default_factory=list)
    start_cursor: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class MemoryEventLog(EventLog):
    """The log in this process (ids "1", "2", …); runs expire a while after their last event."""

    def __init__(self, ttl_seconds: float) -> None:
        self._runs: dict[uuid.UUID, _MemoryRun] = {}
        self._expiry: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._ttl = ttl_seconds

    async def append(self, run_id: uuid.UUID, event: LoggedStreamEvent) -> str:
        run = self._runs.setdefault(run_id, _MemoryRun())
        event_id = str(len(run.events) + 1)
        if event.type == "run_started":
            run.start_cursor = str(len(run.events))
        run.events.append(LoggedEvent(event_id, event.type, event.model_dump_json()))
        run.changed.set()
        run.changed = asyncio.Event()
        if (timer := self._expiry.pop(run_id, None)) is not None:
            timer.cancel()
        if event.type in TERMINAL_TYPES:
            loop = asyncio.get_running_loop()
            self._expiry[run_id] = loop.call_later(self._ttl, self._forget, run_id)
        return event_id

    def _forget(self, run_id: uuid.UUID) -> None:
        self._runs.pop(run_id, None)
        self._expiry.pop(run_id, None)

    async def read(self, run_id: uuid.UUID, after: str | None) -> list[LoggedEvent]:
        run = self._runs.get(run_id)
        if run is None:
            return []
        return run.events[int(after or 0) :]

    async def wait(self, run_id: uuid.UUID, after: str | None, wait_s: float) -> None:
        run = self._runs.setdefault(run_id, _MemoryRun())
        if len(run.events) > int(after or 0):
            return
        with contextlib.suppress(
            TimeoutError
        ):  # asyncio.timeout: no task per wait, unlike wait_for
            async with asyncio.timeout(wait_s):
                await run.changed.wait()

    async def contains(self, run_id: uuid.UUID, event_id: str) -> bool:
        run = self._runs.get(run_id)
        return run is not None and event_id.isdecimal() and 1 <= int(event_id) <= len(run.events)

    async def exists(self, run_id: uuid.UUID) -> bool:
        run = self._runs.get(run_id)
        return run is not None and bool(run.events)

    async def latest_start(self, run_id: uuid.UUID) -> str | None:
        run = self._runs.get(run_id)
        return run.start_cursor if run is not None else None

    async def close(self) -> None:
        for timer in self._expiry.values():
            timer.cancel()
        self._expiry.clear()


# --- Redis Streams ---


def _just_before(event_id: str) -> str:
    """The largest stream id below `event_id` (XRANGE/XREAD cursors are exclusive)."""
    ms, seq = (int(part) for part in event_id.split("-"))
    return f"{ms}-{seq - 1}" if seq > 0 else f"{ms - 1}-18446744073709551615"


async def _once_more(command: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a Redis command, again once if the connection was found closed.

    A Redis with `timeout` set closes idle clients; redis-py notices only when the next command
    fails, and doesn't retry writes. A command on a connection closed by the server never ran,
    so running it again doesn't duplicate it.
    """
    try:
        return await command(*args, **kwargs)
    except RedisConnectionError:
        return await command(*args, **kwargs)


def _id_key(event_id: str) -> tuple[int, int]:
    ms, seq = event_id.split("-")
    return int(ms), int(seq)


class RedisEventLog(EventLog):
    """One Redis Stream per run, plus a key holding the cursor of its latest execution."""

    def __init__(self, url: str, *, max_len: int, ttl_seconds: int, live_ttl_seconds: int) -> None:
        # Its own client: the tail loop blocks up to TAIL_BLOCK_MS, longer than the shared
        # client's short socket timeout allows.
        # A blocking pool: a thousand streams reading at once queue for a connection instead of
        # failing with "Too many connections".
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=POOL_SIZE,
            timeout=10,
            socket_timeout=5,
            socket_connect_timeout=2,
            decode_responses=True,
            **RESILIENT,
        )
        self.redis: Any = Redis(connection_pool=pool)
        self._max_len = max_len
        self._ttl = ttl_seconds
        self._live_ttl = live_ttl_seconds
        self._waiters: dict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)
        self._wanted: dict[uuid.UUID, float] = {}  # run → when someone last waited on it
        self._cursors: dict[uuid.UUID, str] = {}
        self._tail: asyncio.Task[None] | None = None
        # The tail's XREAD also watches this process's own "doorbell" stream: a run that gets
        # its first waiter rings it, so the blocking read restarts with that run included.
        self._doorbell = f"agent:tail:{uuid.uuid4().hex}"
        self._doorbell_cursor = "0-0"

    TAIL_BLOCK_MS = 5000
    KEEP_WATCHING_S = 10.0  # a run stays in the tail's read this long after its last waiter

    @staticmethod
    def _key(run_id: uuid.UUID) -> str:
        return f"agent:run:{run_id}:events"

    @staticmethod
    def _start_key(run_id: uuid.UUID) -> str:
        return f"agent:run:{run_id}:start"

    async def append(self, run_id: uuid.UUID, event: LoggedStreamEvent) -> str:
        key = self._key(run_id)
        fields = {"type": event.type, "data": event.model_dump_json()}
        try:
            # Plain commands, not a pipeline: each one is retried on a fresh connection when
            # Redis had closed the pooled one (a pipeline gives up instead).
            event_id = str(
                await _once_more(
                    self.redis.xadd, key, fields, maxlen=self._max_len, approximate=True
                )
            )
            # The log expires: long after the run's own time limit while it runs (a resumed run
            # starts again), AGENT_EVENTS_TTL_SECONDS after its last event.
            if event.type == "run_started":
                await self.redis.expire(key, self._live_ttl)
                await self.redis.set(
                    self._start_key(run_id), _just_before(event_id), ex=self._live_ttl
                )
            elif event.type in TERMINAL_TYPES:
                await self.redis.expire(key, self._ttl)
                await self.redis.expire(self._start_key(run_id), self._ttl)
        except (RedisError, OSError) as exc:
            raise EventLogUnavailableError(str(exc)) from exc
        return event_id

    async def read(self, run_id: uuid.UUID, after: str | None) -> list[LoggedEvent]:
        start = f"({after}" if after and after != "0-0" else "-"
        try:
            entries = await _once_more(
                self.redis.xrange, self._key(run_id), min=start, max="+", count=1000
            )
        except (RedisError, OSError) as exc:
            raise EventLogUnavailableError(str(exc)) from exc
        return [
            LoggedEvent(entry_id, fields["type"], fields["data"]) for entry_id, fields in entries
        ]

    async def wait(self, run_id: uuid.UUID, after: str | None, wait_s: float) -> None:
        woken = asyncio.Event()
        self._waiters[run_id].add(woken)
        new = run_id not in self._wanted
        self._wanted[run_id] = time.monotonic()
        cursor = after or "0-0"
        known = self._cursors.get(run_id)
        if known is None or _id_key(known) < _id_key(cursor):
            self._cursors[run_id] = cursor
        if self._tail is None or self._tail.done():
            self._tail = asyncio.create_task(self._tail_forever())
        elif new:
            await self._ring()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    await woken.wait()
        finally:
            waiters = self._waiters.get(run_id)
            if waiters is not None:
                waiters.discard(woken)
                if not waiters:
                    del self._waiters[run_id]
                    self._wanted[run_id] = time.monotonic()

    async def _ring(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await _once_more(self.redis.xadd, self._doorbell, {"r": "1"}, maxlen=5)
            await self.redis.expire(self._doorbell, 600)

    async def _tail_forever(self) -> None:
        """Block on XREAD for every run with waiters; wake them when their stream grows."""
        while self._wanted:
            idle_since = time.monotonic() - self.KEEP_WATCHING_S
            for run_id, wanted_at in list(self._wanted.items()):
                if run_id not in self._waiters and wanted_at < idle_since:
                    del self._wanted[run_id]
                    self._cursors.pop(run_id, None)
            streams = {self._key(r): self._cursors.setdefault(r, "0-0") for r in self._wanted}
            streams[self._doorbell] = self._doorbell_cursor
            try:
                found = await self.redis.xread(streams, block=self.TAIL_BLOCK_MS, count=100)
            except (RedisError, OSError):
                logger.warning("events.tail_failed", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            for key, entries in found or []:
                if key == self._doorbell:
                    self._doorbell_cursor = entries[-1][0]
                    continue
                run_id = uuid.UUID(key.split(":")[2])
                self._cursors[run_id] = entries[-1][0]
                for waiter in self._waiters.get(run_id, ()):
                    waiter.set()

    async def contains(self, run_id: uuid.UUID, event_id: str) -> bool:
        if not REDIS_ID.match(event_id):
            return False
        try:
            found = await _once_more(
                self.redis.xrange, self._key(run_id), min=event_id, max=event_id, count=1
            )
        except (RedisError, OSError) as exc:
            raise EventLogUnavailableError(str(exc)) from exc
        return bool(found)

    async def exists(self, run_id: uuid.UUID) -> bool:
        try:
            return bool(await _once_more(self.redis.exists, self._key(run_id)))
        except (RedisError, OSError) as exc:
            raise EventLogUnavailableError(str(exc)) from exc

    async def latest_start(self, run_id: uuid.UUID) -> str | None:
        try:
            cursor = await _once_more(self.redis.get, self._start_key(run_id))
        except (RedisError, OSError) as exc:
            raise EventLogUnavailableError(str(exc)) from exc
        return str(cursor) if cursor else None

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.redis.delete(self._doorbell)
        if self._tail is not None:
            self._tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tail
        await self.redis.aclose()
