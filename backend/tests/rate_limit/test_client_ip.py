"""Client IP: X-Forwarded-For is believed only as far as the trusted proxies vouch for it."""

from typing import Any

import pytest
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from app.core.client_ip import TrustedProxyHeadersMiddleware, client_ip
from app.core.config import settings

PROXIES = ["10.0.0.0/8", "2001:db8::/32"]


async def resolve(
    monkeypatch: pytest.MonkeyPatch, proxies: list[str], peer: Any, *forwarded: str
) -> str:
    """The address `client_ip` gives for a request from `peer` through the middleware."""
    monkeypatch.setattr(settings, "TRUSTED_PROXIES", proxies)
    seen: list[str] = []

    async def app(scope: Scope, _receive: Receive, _send: Send) -> None:
        seen.append(client_ip(Request(scope)))

    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {"type": "http", "client": peer, "headers": headers}

    async def receive() -> Any:
        return {"type": "http.request"}

    async def send(_message: Any) -> None:
        return None

    await TrustedProxyHeadersMiddleware(app)(scope, receive, send)
    (address,) = seen
    return address


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        # No trusted proxies: the header is ignored whatever it says.
        ("203.0.113.9", ("1.2.3.4",), [], "203.0.113.9"),
        # A peer that isn't a trusted proxy can't forward for anyone.
        ("203.0.113.9", ("1.2.3.4",), PROXIES, "203.0.113.9"),
        # From a trusted proxy: the address that proxy saw.
        ("10.1.2.3", ("198.51.100.7",), PROXIES, "198.51.100.7"),
        # A client-supplied prefix is skipped: the nearest untrusted hop wins.
        ("10.1.2.3", ("6.6.6.6, 198.51.100.7",), PROXIES, "198.51.100.7"),
        # Chains of trusted proxies are walked; repeated headers are joined in order.
        ("10.1.2.3", ("6.6.6.6, 198.51.100.7", "10.9.9.9"), PROXIES, "198.51.100.7"),
        # IPv6 proxy and client.
        ("2001:db8::1", ("2001:4860::8888",), PROXIES, "2001:4860::8888"),
        # Trusted proxy but no header: the proxy itself.
        ("10.1.2.3", (), PROXIES, "10.1.2.3"),
        # Every hop trusted: the leftmost one.
        ("10.1.2.3", ("10.4.4.4, 10.5.5.5",), PROXIES, "10.4.4.4"),
    ],
)
async def test_client_ip(
    monkeypatch: pytest.MonkeyPatch,
    peer: str,
    forwarded: tuple[str, ...],
    proxies: list[str],
    expected: str,
) -> None:
    assert await resolve(monkeypatch, proxies, (peer, 4242), *forwarded) == expected


async def test_no_client_address(monkeypatch: pytest.MonkeyPatch) -> None:
    assert await resolve(monkeypatch, PROXIES, None, "198.51.100.7") == "unknown"
