"""Per-request context: the X-Request-ID header, log binding and HTTP metrics by route template."""

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.metrics import HTTP_DURATION, HTTP_REQUESTS

REQUEST_ID_HEADER = "x-request-id"
# Accept ids from proxies/clients only if short and harmless in logs and headers.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
_UNMATCHED = "unmatched"
_SKIP_LOG_ROUTES = frozenset({"/metrics"})
# Label values must stay a small set: anything else a client sends is counted as OTHER.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

logger = structlog.get_logger("app.request")


def valid_request_id(value: str | None) -> str | None:
    """The incoming id if it is acceptable, else None."""
    return value if value and _VALID_REQUEST_ID.match(value) else None


def request_id_from_scope(scope: Scope) -> str | None:
    """The request id assigned by the middleware (for error handlers outside it)."""
    value = scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def route_template(scope: Scope) -> str:
    """The matched route's full template (`/api/v1/items/{id}`), never the raw path."""
    # FastAPI >= 0.16x nests included routers: `scope["route"]` then holds the route's path
    # without the include prefixes, and the full template is on FastAPI's effective route
    # context. Older versions (and plain Starlette routes) only have `scope["route"]`.
    # No public API gives the full template (FastAPI 0.165): this reads FastAPI's documented-
    # nowhere scope key, with `scope["route"]` as the fallback if it ever goes away (the
    # metrics tests assert full templates, so a change shows up in CI, not in production).
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    path = getattr(context, "path_format", None)
    if not isinstance(path, str) or not path:
        route: Any = scope.get("route")
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) and path else _UNMATCHED


class RequestContextMiddleware:
    """Assigns the request id, binds it into log lines, echoes it, and records HTTP metrics.

    A pure ASGI middleware (not BaseHTTPMiddleware) so streaming responses pass through
    untouched and context variables bound here are visible to the endpoint.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode())
        request_id = valid_request_id(incoming.decode("latin-1") if incoming else None)
        request_id = request_id or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status_code = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        # Restore the caller's log context afterwards: in-process test clients share one task.
        previous = structlog.contextvars.get_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            method = scope.get("method", "GET")
            method = method if method in _METHODS else "OTHER"
            route = route_template(scope)
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status_code)).inc()
            HTTP_DURATION.labels(method=method, route=route).observe(elapsed)
            if route not in _SKIP_LOG_ROUTES:
                logger.info(
                    "http.request",
                    method=method,
                    route=route,
                    status=status_code,
                    duration_ms=round(elapsed * 1000, 1),
                )
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**previous)
