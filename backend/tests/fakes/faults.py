"""Fault injection and request recording for the fake servers (plain ASGI middleware)."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

Scope = dict[str, Any]
ASGIApp = Any


@dataclass
class RecordedRequest:
    """One HTTP request a fake received, with the status it answered."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    status: int | None = None


@dataclass
class _Failure:
    count: int
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    path_prefix: str


@dataclass
class Faults:
    """Knobs a test turns: fail the next N requests, add latency to every request."""

    latency: float = 0.0
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        path_prefix: str = "/",
    ) -> None:
        """Answer the next `count` requests under `path_prefix` with `status`."""
        failure = _Failure(
            count, status, body or {"message": "injected failure"}, headers or {}, path_prefix
        )
        with self._lock:
            self._failures.append(failure)

    def take_failure(self, path: str) -> _Failure | None:
        """Consume one pending failure that applies to `path`."""
        with self._lock:
            for failure in self._failures:
                if path.startswith(failure.path_prefix) and failure.count > 0:
                    failure.count -= 1
                    if failure.count == 0:
                        self._failures.remove(failure)
                    return failure
        return None

    def reset(self) -> None:
        """No latency, no pending failures."""
        with self._lock:
            self._failures.clear()
        self.latency = 0.0


class FaultMiddleware:
    """Applies `Faults` and records every request (including the injected and rejected ones)."""

    def __init__(self, app: ASGIApp, faults: Faults, log: list[RecordedRequest]) -> None:
        self.app = app
        self.faults = faults
        self.log = log

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode(),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
        )
        self.log.append(record)
        if self.faults.latency > 0:
            await asyncio.sleep(self.faults.latency)
        failure = self.faults.take_failure(scope["path"])
        if failure is not None:
            record.status = failure.status
            await _send_json(send, failure.status, failure.body, failure.headers)
            return

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await self.app(scope, receive, recording_send)


async def _send_json(send: Any, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
