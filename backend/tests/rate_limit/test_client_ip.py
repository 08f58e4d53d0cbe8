"""Client IP: X-Forwarded-For is believed only as far as the trusted proxies vouch for it."""

import pytest
from starlette.requests import Request

from app.core.client_ip import client_ip

PROXIES = ["10.0.0.0/8", "2001:db8::/32"]


def request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 4242), "headers": headers})


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
        # Garbage where an address should be: fall back to the socket peer.
        ("10.1.2.3", ("not-an-ip",), PROXIES, "10.1.2.3"),
        # Trusted proxy but no header: the proxy itself.
        ("10.1.2.3", (), PROXIES, "10.1.2.3"),
        # Every hop trusted: the leftmost one.
        ("10.1.2.3", ("10.4.4.4, 10.5.5.5",), PROXIES, "10.4.4.4"),
    ],
)
def test_client_ip(peer, forwarded, proxies, expected) -> None:
    assert client_ip(request(peer, *forwarded), trusted_proxies=proxies) == expected


def test_no_client_address() -> None:
    conn = Request({"type": "http", "client": None, "headers": []})
    assert client_ip(conn, trusted_proxies=PROXIES) == "unknown"
