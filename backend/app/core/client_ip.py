"""The client's IP address: `X-Forwarded-For` is honoured only from TRUSTED_PROXIES.

uvicorn's ProxyHeadersMiddleware does the work (right to left through the hops, skipping
trusted proxies and networks; `X-Forwarded-Proto` too). The servers run with uvicorn's own
`proxy_headers` off, so the trusted list comes from our settings instead of the command line.
"""

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.core.config import settings


class TrustedProxyHeadersMiddleware:
    """uvicorn's ProxyHeadersMiddleware for TRUSTED_PROXIES, read per request (tests change it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._proxies: tuple[str, ...] = ()
        self._inner: ProxyHeadersMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        proxies = tuple(settings.TRUSTED_PROXIES)
        if not proxies or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self._inner is None or proxies != self._proxies:
            self._inner = ProxyHeadersMiddleware(self.app, trusted_hosts=list(proxies))  # type: ignore[arg-type]
            self._proxies = proxies
        await self._inner(scope, receive, send)  # type: ignore[arg-type]


def client_ip(conn: HTTPConnection) -> str:
    """The client's address (the peer, or the nearest untrusted hop behind trusted proxies)."""
    return conn.client.host if conn.client else "unknown"
