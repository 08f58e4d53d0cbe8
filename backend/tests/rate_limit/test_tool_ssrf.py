"""SSRF review of the agent's HTTP tools: what a prompt must never make the server fetch.

Literal addresses and `localhost` resolve without a network. Names that must resolve to chosen
addresses ("public-looking.example" -> 10.0.0.5) get their answer from a stand-in for DNS on the
running event loop — DNS is an outside service here, like the LLM; every other name goes to the
real resolver.
"""

import asyncio
import json
import socket
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route

from app.agents.tools import ToolContext, build_tools
from app.agents.url_safety import UnsafeURLError, check_url
from app.core.config import settings
from app.core.db import SessionMaker
from tests.support.live_server import serve
from tests.utils import create_user

FAKE_DNS = {
    "public-looking.example": ["10.0.0.5"],
    "rebind-mixed.example": ["93.184.216.34", "127.0.0.1"],
    "v6-private.example": ["fd00::1"],
    "public.example": ["93.184.216.34"],
}

PRIVATE_URLS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8000/admin",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[0:0:0:0:0:ffff:7f00:1]/",
    "http://10.0.0.1/",
    "http://10.255.255.254/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://0.0.0.0/",
    "http://0/",
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0x7f000001/",  # hex 127.0.0.1
    "http://0x7f.0x0.0x0.0x1/",  # dotted hex
    "http://0177.0.0.1/",  # octal 127.0.0.1
    "http://017700000001/",  # octal, undotted
    "http://127.1/",  # short form
    "http://3232235777/",  # decimal 192.168.1.1
    "http://0xA9FEA9FE/",  # hex 169.254.169.254
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://[fe80::1]/",  # IPv6 link-local
    "http://[fc00::1]/",  # IPv6 unique local
    "http://224.0.0.1/",  # multicast
    "http://public-looking.example/",  # public-looking name, private address
    "http://rebind-mixed.example/",  # one private answer is enough to refuse
    "http://v6-private.example/",
]


@pytest.fixture
async def fake_dns(monkeypatch):
    """Answer FAKE_DNS names from the table; everything else from the real resolver."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = str(host).lower().rstrip(".")
        if name in FAKE_DNS:
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port, 0, 0) if ":" in address else (address, port),
                )
                for address in FAKE_DNS[name]
            ]
        return await real(host, port, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)


def tools_for(user: Any, **overrides: Any) -> dict[str, Any]:
    config = settings.model_copy(update=overrides)
    context = ToolContext(user.id, user.is_superuser, SessionMaker, config)
    return {tool.name: tool for tool in build_tools(context)}


async def call(tool: Any, **args: Any) -> dict[str, Any]:
    return json.loads(await tool.ainvoke(args))


async def test_private_and_disguised_addresses_are_refused(fake_dns) -> None:
    # One test over the whole list (each test pays for a database reset): names every miss.
    accepted = []
    for url in PRIVATE_URLS:
        try:
            await check_url(url, allowed_hosts=[])
        except UnsafeURLError:
            continue
        accepted.append(url)
    assert accepted == []


async def test_a_public_address_passes_the_check(fake_dns) -> None:
    assert await check_url("https://public.example/page", allowed_hosts=[]) == "public.example"


async def test_http_get_tool_refuses_private_urls(fake_dns) -> None:
    user, _ = await create_user()
    http_get = tools_for(user, AGENT_HTTP_ALLOWED_HOSTS=[])["http_get"]
    for url in PRIVATE_URLS:
        result = await call(http_get, url=url)
        assert result["error"].startswith("refused:"), (url, result)


def site(hits: list[str]) -> Starlette:
    """An 'allowed' site that redirects to private places, recording every request it gets."""

    async def record(request: Request) -> PlainTextResponse:
        hits.append(request.url.path)
        return PlainTextResponse("internal secret")

    async def redirect(request: Request) -> RedirectResponse:
        hits.append(request.url.path)
        return RedirectResponse(request.query_params["to"], status_code=302)

    async def redirect_post(request: Request) -> RedirectResponse:
        hits.append(request.url.path)
        return RedirectResponse(request.query_params["to"], status_code=307)

    async def echo(request: Request) -> JSONResponse:
        hits.append(request.url.path)
        return JSONResponse(await request.json())

    return Starlette(
        routes=[
            Route("/secret", record),
            Route("/redirect", redirect),
            Route("/redirect-post", redirect_post, methods=["POST"]),
            Route("/echo", echo, methods=["POST"]),
        ]
    )


async def test_redirects_from_an_allowed_host_to_private_ones_are_refused(fake_dns) -> None:
    user, _ = await create_user()
    hits: list[str] = []
    async with serve(site(hits), lifespan="off") as base:
        port = base.rsplit(":", 1)[1]
        tools = tools_for(user, AGENT_HTTP_ALLOWED_HOSTS=["127.0.0.1"])
        targets = [
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            f"http://localhost:{port}/secret",  # the same server under a name not allowlisted
            f"http://[::1]:{port}/secret",
            f"http://0x7f000001:{port}/secret",
            f"http://2130706433:{port}/secret",
            "http://public-looking.example/",
        ]
        for target in targets:
            hits.clear()
            result = await call(tools["http_get"], url=f"{base}/redirect?to={target}")
            assert result["error"].startswith("refused:"), (target, result)
            assert hits == ["/redirect"], "the private hop must not be requested"
        # The allowlisted host itself is reachable (the check is not refusing everything).
        hits.clear()
        ok = await call(tools["http_get"], url=f"{base}/redirect?to={base}/secret")
        assert ok["status_code"] == 200 and hits == ["/redirect", "/secret"]


async def test_http_post_only_to_allowlisted_hosts(fake_dns) -> None:
    user, _ = await create_user()
    hits: list[str] = []
    async with serve(site(hits), lifespan="off") as base:
        port = base.rsplit(":", 1)[1]
        allowlisted = tools_for(user, AGENT_HTTP_ALLOWED_HOSTS=["127.0.0.1"])
        posted = await call(allowlisted["http_post"], url=f"{base}/echo", body={"a": 1})
        assert posted["status_code"] == 200 and json.loads(posted["body"]) == {"a": 1}

        hits.clear()
        for url in (
            f"http://localhost:{port}/echo",  # same server, name not allowlisted
            "https://public.example/collect",  # public, but not allowlisted
        ):
            refused = await call(allowlisted["http_post"], url=url, body={"a": 1})
            assert "AGENT_HTTP_ALLOWED_HOSTS" in refused["error"], refused
        # A 307 keeps the POST: the next hop must be allowlisted too.
        redirected = await call(
            allowlisted["http_post"],
            url=f"{base}/redirect-post?to=https://public.example/collect",
            body={"a": 1},
        )
        assert "AGENT_HTTP_ALLOWED_HOSTS" in redirected["error"], redirected
        assert hits == ["/redirect-post"]

        # Without an allowlist, http_post goes nowhere — not even to public hosts.
        closed = tools_for(user, AGENT_HTTP_ALLOWED_HOSTS=[])
        refused = await call(closed["http_post"], url="https://public.example/collect", body={})
        assert "AGENT_HTTP_ALLOWED_HOSTS" in refused["error"]
