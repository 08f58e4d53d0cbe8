"""The last-resort 500, answered from inside the middleware stack.

Starlette sends the response of an `Exception` handler from ServerErrorMiddleware, which wraps
every other middleware: that 500 missed the security headers (and CORS). This middleware, the
innermost, turns an exception no handler took into the same handler's response where the other
middleware still see it. The handler logs it; an exception after the response started can't be
answered and goes on to the server as before.
"""

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


class UnhandledErrorMiddleware:
    """Pure ASGI: an exception before the response started becomes `handler`'s response."""

    def __init__(self, app: ASGIApp, handler: ErrorHandler) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = await self.handler(Request(scope, receive), exc)
            await response(scope, receive, send)
