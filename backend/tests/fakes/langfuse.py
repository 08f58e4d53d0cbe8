"""A local fake of the Langfuse server for tests: OTLP ingestion, reads, scores, faults.

with LangfuseFake() as fake:
    client = Langfuse(public_key=fake.public_key, secret_key=fake.secret_key, base_url=fake.url)
    ...; client.flush()
    fake.wait_for_trace(trace_id)   # the trace, derived from the received spans
    fake.scores()                   # stored scores (same id overwrites)
    fake.faults.fail_next(2, status=503); fake.faults.latency = 1.5
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypeVar

from tests.fakes.background import BackgroundServer
from tests.fakes.faults import FaultMiddleware, Faults, RecordedRequest
from tests.fakes.langfuse_api import LangfuseConfig, build_app
from tests.fakes.langfuse_model import Observation, Score, Trace
from tests.fakes.langfuse_store import LangfuseStore
from tests.fakes.otlp import SpanRecord

DEFAULT_PUBLIC_KEY = "pk-lf-test"
DEFAULT_SECRET_KEY = "sk-lf-test"

T = TypeVar("T")


class LangfuseFake:
    """The fake Langfuse server, running on 127.0.0.1 while the context is open."""

    def __init__(
        self,
        public_key: str = DEFAULT_PUBLIC_KEY,
        secret_key: str = DEFAULT_SECRET_KEY,
        project_id: str = "fake-project",
    ) -> None:
        self.public_key = public_key
        self.secret_key = secret_key
        self.store = LangfuseStore(project_id)
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.config = LangfuseConfig(credentials={public_key: secret_key}, project_id=project_id)
        app = FaultMiddleware(build_app(self.store, self.config), self.faults, self.requests)
        self._server = BackgroundServer(app)
        self.url = self._server.url

    # lifecycle
    def start(self) -> None:
        """Start serving."""
        self._server.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget data, requests, faults and keys, and issue a fresh key pair (the server keeps
        running). Fresh keys because the Langfuse SDK keeps one client per public key for the
        life of the process: a test must not inherit the previous test's shut-down one."""
        self.store.reset()
        self.faults.reset()
        self.requests.clear()
        self.config.credentials.clear()
        self.public_key = f"pk-lf-{uuid.uuid4().hex}"
        self.secret_key = f"sk-lf-{uuid.uuid4().hex}"
        self.config.credentials[self.public_key] = self.secret_key

    # credentials
    def add_credentials(self, public_key: str, secret_key: str) -> None:
        """Accept one more key pair (each Langfuse SDK client is a singleton per public key)."""
        self.config.credentials[public_key] = secret_key

    def auth_header(
        self, public_key: str | None = None, secret_key: str | None = None
    ) -> dict[str, str]:
        """A Basic auth header for httpx calls to the read API."""
        pair = f"{public_key or self.public_key}:{secret_key or self.secret_key}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    # recorded state
    @property
    def spans(self) -> list[SpanRecord]:
        """Every span received, in arrival order."""
        return list(self.store.spans)

    def traces(self) -> dict[str, Trace]:
        """Every trace by id."""
        return self.store.traces()

    def trace(self, trace_id: str) -> Trace | None:
        """One trace (with `.observations`), or None."""
        return self.store.trace(trace_id)

    def observations(
        self, trace_id: str | None = None, type: str | None = None
    ) -> list[Observation]:
        """Observations, newest first, optionally of one trace and/or type (e.g. "GENERATION")."""
        return [
            obs
            for obs in self.store.observations()
            if (trace_id is None or obs.trace_id == trace_id) and (type is None or obs.type == type)
        ]

    def scores(self, trace_id: str | None = None) -> list[Score]:
        """Stored scores (one per id), newest first."""
        return [s for s in self.store.scores() if trace_id is None or s.trace_id == trace_id]

    @property
    def deleted_trace_ids(self) -> list[str]:
        """Every trace id a DELETE /api/public/traces(/{id}) named, in order."""
        return list(self.store.deleted_trace_ids)

    def score_posts(self) -> list[RecordedRequest]:
        """Every POST /api/public/scores received (to assert "nothing new was uploaded")."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/api/public/scores"]

    # waiting (the SDK exports in background threads)
    def wait_for(self, probe: Callable[[], T | None], within: float = 5.0) -> T:
        """Poll `probe` until it returns something truthy; AssertionError after `within` s."""
        deadline = time.monotonic() + within
        while not (value := probe()):
            if time.monotonic() > deadline:
                raise AssertionError(f"fake Langfuse: condition not met within {within}s")
            time.sleep(0.02)
        return value

    def wait_for_trace(
        self, trace_id: str, min_observations: int = 1, within: float = 5.0
    ) -> Trace:
        """Wait until a trace with at least `min_observations` observations has arrived."""
        return self.wait_for(self._trace_probe(trace_id, min_observations), within)

    async def await_for(self, probe: Callable[[], T | None], within: float = 5.0) -> T:
        """`wait_for` for async tests: polls without blocking the event loop."""
        try:
            async with asyncio.timeout(within):
                # polling on purpose: the state is written by the server thread
                while not (value := probe()):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
                return value
        except TimeoutError:
            raise AssertionError(f"fake Langfuse: condition not met within {within}s") from None

    async def await_trace(
        self, trace_id: str, min_observations: int = 1, within: float = 5.0
    ) -> Trace:
        """`wait_for_trace` for async tests."""
        return await self.await_for(self._trace_probe(trace_id, min_observations), within)

    def _trace_probe(self, trace_id: str, min_observations: int) -> Callable[[], Trace | None]:
        def probe() -> Trace | None:
            trace = self.trace(trace_id)
            return trace if trace and len(trace.observations) >= min_observations else None

        return probe
