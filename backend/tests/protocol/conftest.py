"""A live server for the Agent Protocol tests, and LangGraph SDK clients for its users."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from app.core.config import settings
from tests.agents.conftest import agent_settings  # noqa: F401
from tests.agents.test_approvals import hook  # noqa: F401
from tests.support.live_server import serve
from tests.utils import create_user_and_login

ClientFactory = Callable[[], Awaitable[tuple[LangGraphClient, Any]]]


@pytest.fixture(scope="session")
async def protocol_url(app: Any) -> AsyncIterator[str]:
    """The running app on a loopback port; the protocol's base URL."""
    async with serve(app, lifespan="off") as base:
        yield base + settings.AGENT_PROTOCOL_PATH


@pytest.fixture
async def sdk_client(protocol_url: str) -> AsyncIterator[ClientFactory]:
    """`await sdk_client()`: a new user and a `langgraph_sdk` client authenticated as them."""
    base = protocol_url.removesuffix(settings.AGENT_PROTOCOL_PATH)
    clients: list[LangGraphClient] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def make() -> tuple[LangGraphClient, Any]:
            headers, user = await create_user_and_login(http)
            client = get_client(url=protocol_url, api_key=None, headers=headers, timeout=60)
            clients.append(client)
            return client, user

        yield make
    for client in clients:
        await client.aclose()
