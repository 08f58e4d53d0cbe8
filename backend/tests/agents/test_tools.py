"""The agent's tools against the real database and a local HTTP server."""

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route

from app.agents.tools import ToolContext, build_tools
from app.core.config import settings
from app.core.db import SessionMaker
from tests.support.live_server import serve
from tests.utils import create_item, create_user


def _tools(user, **overrides):
    config = settings.model_copy(update=overrides)
    return {
        t.name: t
        for t in build_tools(ToolContext(user.id, user.is_superuser, SessionMaker, config))
    }


async def _call(tool, **args) -> dict:
    return json.loads(await tool.ainvoke(args))


async def test_normal_user_sees_only_themselves_and_their_items() -> None:
    alice, _ = await create_user()
    bob, _ = await create_user()
    alice_item = await create_item(alice.id, title="Alice's hat")
    bob_item = await create_item(bob.id, title="Bob's boat")
    tools = _tools(alice)
    assert (await _call(tools["lookup_user_by_email"], email=alice.email))["id"] == str(alice.id)
    assert "error" in await _call(tools["lookup_user_by_email"], email=bob.email)
    assert (await _call(tools["lookup_item_by_id"], item_id=str(alice_item.id)))[
        "title"
    ] == "Alice's hat"
    assert "error" in await _call(tools["lookup_item_by_id"], item_id=str(bob_item.id))
    assert (
        "not a valid item id" in (await _call(tools["lookup_item_by_id"], item_id="nope"))["error"]
    )
    mine = await _call(tools["lookup_user_items"])
    assert [i["title"] for i in mine["items"]] == ["Alice's hat"]
    assert "error" in await _call(tools["lookup_user_items"], email=bob.email)


async def test_superuser_sees_everyone() -> None:
    admin, _ = await create_user(is_superuser=True)
    bob, _ = await create_user()
    bob_item = await create_item(bob.id, title="Bob's boat")
    tools = _tools(admin)
    assert (await _call(tools["lookup_user_by_email"], email=bob.email))["email"] == bob.email
    assert (await _call(tools["lookup_item_by_id"], item_id=str(bob_item.id)))["owner_id"] == str(
        bob.id
    )
    listed = await _call(tools["lookup_user_items"], email=bob.email)
    assert listed["owner"] == bob.email and listed["count"] == 1


async def test_invalid_arguments_raise_for_the_graph_to_report() -> None:
    user, _ = await create_user()
    tool = _tools(user)["lookup_user_items"]
    try:
        await tool.ainvoke({"limit": 1000})
    except Exception as exc:  # the graph turns this into an error ToolMessage
        assert "limit" in str(exc)
    else:
        raise AssertionError("limit above 100 must be refused")


def _site() -> Starlette:
    async def hello(_: Request) -> PlainTextResponse:
        return PlainTextResponse("hello from the test site")

    async def big(_: Request) -> PlainTextResponse:
        return PlainTextResponse("x" * 50_000)

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"received": await request.json()})

    async def to_private(_: Request) -> RedirectResponse:
        return RedirectResponse("http://10.1.2.3/secret", status_code=302)

    return Starlette(
        routes=[
            Route("/hello", hello),
            Route("/big", big),
            Route("/echo", echo, methods=["POST"]),
            Route("/to-private", to_private),
        ]
    )


async def test_http_tools_on_an_allowlisted_local_site() -> None:
    user, _ = await create_user()
    async with serve(_site(), lifespan="off") as base:
        tools = _tools(
            user, AGENT_HTTP_ALLOWED_HOSTS=["127.0.0.1"], AGENT_HTTP_MAX_RESPONSE_BYTES=1000
        )
        page = await _call(tools["http_get"], url=f"{base}/hello")
        assert page["status_code"] == 200 and page["body"] == "hello from the test site"
        capped = await _call(tools["http_get"], url=f"{base}/big")
        assert capped["truncated"] is True and len(capped["body"]) == 1000
        posted = await _call(tools["http_post"], url=f"{base}/echo", body={"a": 1})
        assert posted["status_code"] == 200 and json.loads(posted["body"]) == {"received": {"a": 1}}
        redirected = await _call(tools["http_get"], url=f"{base}/to-private")
        assert "refused" in redirected["error"] and "10.1.2.3" in redirected["error"]
        # Without the allowlist, loopback is refused before any connection is made.
        closed = _tools(user, AGENT_HTTP_ALLOWED_HOSTS=[])
        refused = await _call(closed["http_get"], url=f"{base}/hello")
        assert refused["error"].startswith("refused:")
        refused_post = await _call(closed["http_post"], url=f"{base}/echo", body={})
        assert "AGENT_HTTP_ALLOWED_HOSTS" in refused_post["error"]


async def test_http_get_rejects_non_http_schemes_and_credentials() -> None:
    user, _ = await create_user()
    tools = _tools(user, AGENT_HTTP_ALLOWED_HOSTS=[])
    for url in (
        "file:///etc/passwd",
        "ftp://example.com/x",
        "http://user:pw@example.com/",
        "http:///nohost",
    ):
        result = await _call(tools["http_get"], url=url)
        assert result["error"].startswith("refused:"), url
