"""HTTP plumbing shared by the LLM stubs: delays, chunked SSE bodies, dropped streams."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Self

from starlette.responses import JSONResponse, Response, StreamingResponse

from tests.fakes.background import BackgroundServer
from tests.fakes.llm_script import AnyReply, Reply, Script


class StreamCut(Exception):
    """Raised inside a streaming body to drop the connection mid-way (an injected fault)."""


def _is_stream_cut(exc: BaseException | None) -> bool:
    if isinstance(exc, StreamCut):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_stream_cut(inner) for inner in exc.exceptions)
    return False


class _HideStreamCuts(logging.Filter):
    """uvicorn logs an app error when a stream is dropped; for injected cuts that is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _is_stream_cut(record.exc_info[1]))


logging.getLogger("uvicorn.error").addFilter(_HideStreamCuts())


def pieces(content: str, size: int) -> list[str]:
    """Split text into chunks of `size` characters (at least one chunk, maybe empty)."""
    size = max(size, 1)
    return [content[i : i + size] for i in range(0, len(content), size)] or [""]


async def wait(seconds: float) -> None:
    """Sleep without blocking the server's event loop."""
    if seconds > 0:
        await asyncio.sleep(seconds)


def sse_response(
    events: list[str], reply: Reply, chunk_delay: float, headers: dict[str, Any]
) -> StreamingResponse:
    """A text/event-stream body from ready-made SSE frames, honouring chunk delay and cuts."""
    delay = reply.chunk_delay or chunk_delay
    if reply.malformed_json:
        events = [*events[:1], "data: {not json\n\n", *events[1:]]
    plain = not delay and reply.cut_after is None and reply.stall_after is None

    async def body() -> AsyncIterator[bytes]:
        if plain:  # one write: cheaper for zero-latency benchmarks
            yield "".join(events).encode()
            return
        for index, event in enumerate(events):
            if reply.cut_after is not None and index >= reply.cut_after:
                raise StreamCut(f"stream cut after {index} events")
            if reply.stall_after is not None and index == reply.stall_after:
                await wait(reply.stall_seconds)
            if index:
                await wait(delay)
            yield event.encode()

    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)


async def plain_response(payload: dict[str, Any], reply: Reply) -> Response:
    """A non-streamed answer, with the reply's faults: stalled, cut mid-body, or not JSON."""
    if reply.stall_after is not None:
        await wait(reply.stall_seconds)
    if reply.malformed_json:
        return Response(b'{"id": "broken", "choices": [', media_type="application/json")
    if reply.cut_after is not None:
        encoded = JSONResponse(payload).body

        async def cut() -> AsyncIterator[bytes]:
            yield encoded[: len(encoded) // 2]
            raise StreamCut("body cut halfway")

        return StreamingResponse(cut(), media_type="application/json")
    return JSONResponse(payload)


class StubServer:
    """An LLM stub app with its `Script`, served on 127.0.0.1 while the context is open."""

    def __init__(self, app_factory: Callable[[Script], Any]) -> None:
        self.script = Script()
        self._server = BackgroundServer(app_factory(self.script))
        self.url = self._server.url

    def enqueue(self, *replies: AnyReply) -> None:
        """Answer the next requests with these replies, in order."""
        self.script.enqueue(*replies)

    def set_responder(self, responder: Callable[[dict[str, Any]], AnyReply | None] | None) -> None:
        """Answer with `responder(request_json)` when the queue is empty (None: auto mode)."""
        self.script.set_responder(responder)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request body received, in order."""
        return self.script.requests

    def reset(self) -> None:
        """Back to auto mode with nothing recorded."""
        self.script.reset()

    def __enter__(self) -> Self:
        self._server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.stop()
