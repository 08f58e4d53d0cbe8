"""The client's IP address: `X-Forwarded-For` is honoured only from TRUSTED_PROXIES."""

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import HTTPConnection

from app.core.config import settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_trusted(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(conn: HTTPConnection, trusted_proxies: Sequence[str] | None = None) -> str:
    """The socket peer, or — when the peer is a trusted proxy — the nearest untrusted hop.

    `X-Forwarded-For` is read right to left (each proxy appends the address it saw), skipping
    trusted proxies; the leftmost entries are whatever the client chose to send and are never
    believed on their own. Hand-written because uvicorn's ProxyHeadersMiddleware is configured
    on the server command line, not from our settings.
    """
    proxies = settings.TRUSTED_PROXIES if trusted_proxies is None else trusted_proxies
    peer = conn.client.host if conn.client else "unknown"
    networks = _networks(tuple(proxies))
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [
        hop.strip()
        for header in conn.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed hop: stop trusting the chain here
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
