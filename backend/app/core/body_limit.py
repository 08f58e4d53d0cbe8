"""Request body size limit: 413 with a JSON `detail` above MAX_REQUEST_BODY_BYTES.

Pure ASGI (no BaseHTTPMiddleware) so streaming responses pass through untouched. `Content-Length`
is checked before the app runs; bodies without one (chunked) are counted as they stream in.
"""

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestBodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed body passes the limit (FastAPI turns it into a 413)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=too_large_detail(max_bytes))


def too_large_detail(max_bytes: int) -> str:
    """The 413 message."""
    return f"Request body too large: the limit is {max_bytes} bytes."


class BodySizeLimitMiddleware:
    """Refuse HTTP request bodies larger than `max_bytes` (0 disables the limit)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await _reply(scope, send, 400, "Invalid Content-Length header.")
            return
        if declared is not None and declared > self.max_bytes:
            await _reply(scope, send, 413, too_large_detail(self.max_bytes))
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestBodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except RequestBodyTooLarge as exc:
            # Reached only when no exception handler inside the app turned it into a response.
            if response_started:
                raise
            await _reply(scope, send, 413, str(exc.detail))


def _content_length(scope: Scope) -> int | None:
    """The declared length, None when absent, -1 when malformed."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None


async def _reply(scope: Scope, send: Send, status_code: int, detail: str) -> None:
    code = "body_too_large" if status_code == 413 else "bad_request"
    response = JSONResponse(status_code=status_code, content={"detail": detail, "code": code})
    await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
