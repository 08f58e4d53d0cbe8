"""A live server for the Agent Protocol tests, and LangGraph SDK clients for its users."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from app.core.config import settings
from tests.agents.conftest import agent_settings  # noqa: F401
from tests.agents.test_approvals import hook  # noqa: F401
from tests.support.live_server import serve
from tests.utils import API, create_user_and_login


@dataclass(frozen=True)
class Owner:
    """The user a client acts for, and a session of theirs for the `/api/v1` endpoints."""

    user: Any
    headers: dict[str, str]


ClientFactory = Callable[..., Awaitable[tuple[LangGraphClient, Owner]]]


@pytest.fixture(scope="session")
async def protocol_url(app: Any) -> AsyncIterator[str]:
    """The running app on a loopback port; the protocol's base URL."""
    async with serve(app, lifespan="off") as base:
        yield base + settings.AGENT_PROTOCOL_PATH


@pytest.fixture
async def slow_protocol_url(agent_settings: Any) -> AsyncIterator[str]:  # noqa: F811
    """A second app whose offline model is slow enough to find its runs still running."""
    from app.main import create_app

    agent_settings(OFFLINE_MODEL_LATENCY_MS=300, OFFLINE_MODEL_TOKENS_PER_SECOND=20.0)
    slow_app = create_app()
    async with slow_app.router.lifespan_context(slow_app), serve(slow_app, lifespan="off") as base:
        yield base + settings.AGENT_PROTOCOL_PATH


@pytest.fixture
async def sdk_client(protocol_url: str) -> AsyncIterator[ClientFactory]:
    """`await sdk_client()`: a new user and a `langgraph_sdk` client authenticated as them."""
    async with _clients(protocol_url) as make:
        yield make


@pytest.fixture
async def slow_sdk_client(slow_protocol_url: str) -> AsyncIterator[ClientFactory]:
    """Like `sdk_client`, on the slow app."""
    async with _clients(slow_protocol_url) as make:
        yield make


@contextlib.asynccontextmanager
async def _clients(protocol_url: str) -> AsyncIterator[ClientFactory]:
    base = protocol_url.removesuffix(settings.AGENT_PROTOCOL_PATH)
    clients: list[LangGraphClient] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def make(auth: str = "api_key") -> tuple[LangGraphClient, Owner]:
            """A new user, and a client sending their personal API key (agent-chat-ui's
            way: `X-Api-Key`) or, with `auth="bearer"`, their session token."""
            headers, user = await create_user_and_login(http)
            if auth == "bearer":
                client = get_client(url=protocol_url, api_key=None, headers=headers, timeout=60)
            else:
                created = await http.post(f"{API}/api-keys", json={"name": "sdk"}, headers=headers)
                assert created.status_code == 201, created.text
                client = get_client(url=protocol_url, api_key=created.json()["key"], timeout=60)
            clients.append(client)
            return client, Owner(user, headers)

        yield make
    for client in clients:
        await client.aclose()
