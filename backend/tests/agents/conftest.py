"""Fixtures for agent tests."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from app.core.config import settings


@pytest.fixture
def agent_settings() -> Iterator[Any]:
    """Change settings for one test (`agent_settings(NAME=value)`); restored afterwards."""
    saved: dict[str, Any] = {}

    def set_values(**values: Any) -> None:
        for key, value in values.items():
            saved.setdefault(key, getattr(settings, key))
            setattr(settings, key, value)

    yield set_values
    for key, value in saved.items():
        setattr(settings, key, value)


@pytest.fixture
async def fresh_app() -> AsyncIterator[Any]:
    """A new app instance (new checkpointer pool and models from the current settings)."""
    from app.main import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def fresh_client(fresh_app: Any) -> AsyncIterator[Any]:
    """A client for `fresh_app`."""
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fresh_app), base_url="http://test"
    ) as http:
        yield http


@pytest.fixture
def fresh_client_factory() -> Any:
    """`async with fresh_client_factory() as client:` a new app built from the settings *now*."""
    import contextlib

    import httpx

    from app.main import create_app

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[httpx.AsyncClient]:
        app = create_app()
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test"
            ) as http,
        ):
            yield http

    return factory


def openai_stub_settings(stub: Any) -> dict[str, Any]:
    """Settings that point the agent at the OpenAI-compatible test stub (no retries, 5-s timeout)."""
    return {
        "LLM_MODEL_PROVIDER": "openai",
        "OPENAI_BASE_URL": stub.base_url,
        "OPENAI_API_KEY": "test",
        "LLM_MODEL_NAME": "stub-model",
        "LLM_MAX_RETRIES": 0,
        "LLM_TIMEOUT_SECONDS": 5.0,
    }
