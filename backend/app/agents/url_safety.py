"""SSRF protection for the HTTP tools: only public addresses, unless a host is allowlisted.

Checked after DNS resolution and again on every redirect hop. Written by hand because the
check must see every address a name resolves to (including decimal/hex/octal IPv4 spellings,
which the resolver normalises) and no maintained library does that for httpx's async client.
Residual risk: DNS rebinding between our check and httpx's own lookup; deployments that need
more should route tool egress through a filtering proxy.

`test_hosts` (AGENT_HTTP_TEST_HOSTS, refused in staging/production by the settings) skips the
address check for named hosts so tests can serve pages from loopback; it is not an allowlist.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


class UnsafeURLError(ValueError):
    """The URL is not allowed for agent tools."""


def host_allowed(host: str, allowed_hosts: list[str]) -> bool:
    """True when `host` matches an entry (`example.com` or `*.example.com`)."""
    host = host.lower().rstrip(".")
    for entry in allowed_hosts:
        entry = entry.lower().strip()
        if entry.startswith("*.") and (host.endswith(entry[1:]) or host == entry[2:]):
            return True
        if host == entry:
            return True
    return False


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_url(
    url: str,
    *,
    allowed_hosts: list[str],
    require_allowlisted: bool = False,
    test_hosts: list[str] | None = None,
) -> str:
    """Validate one URL (scheme, host, resolved addresses); return its host or raise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError("only http and https URLs are allowed")
    host = parts.hostname
    if not host:
        raise UnsafeURLError("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeURLError("URLs with credentials are not allowed")
    if host_allowed(host, allowed_hosts):
        return host
    if require_allowlisted:
        raise UnsafeURLError(f"host {host!r} is not in AGENT_HTTP_ALLOWED_HOSTS")
    if allowed_hosts:
        raise UnsafeURLError(f"host {host!r} is not in AGENT_HTTP_ALLOWED_HOSTS")
    if test_hosts and host_allowed(host, test_hosts):
        return host
    if host.lower().rstrip(".") in METADATA_HOSTS:
        raise UnsafeURLError("cloud metadata endpoints are not allowed")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeURLError(f"cannot resolve host {host!r}") from exc
    addresses = {info[4][0] for info in infos}
    if not addresses or not all(is_public_address(str(a)) for a in addresses):
        raise UnsafeURLError(
            f"host {host!r} resolves to a private, loopback, link-local or reserved address"
        )
    return host
