"""Fixtures for the resilience tests: an app on the OpenAI-compatible stub, with its runtime."""

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.agents.conftest import agent_settings, openai_stub_settings  # noqa: F401
from tests.observability.conftest import enable_tracing  # noqa: F401


@dataclass
class AppClient:
    """A fresh app (built from the settings at the time) and a client for it."""

    app: Any
    http: httpx.AsyncClient

    @property
    def agent(self) -> Any:
        """The app's AgentService (its model chain and breakers)."""
        return self.app.state.runs.agent


@pytest.fixture
def app_client() -> Callable[[], contextlib.AbstractAsyncContextManager[AppClient]]:
    """`async with app_client() as ac:` a new app and its client."""
    from app.main import create_app

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[AppClient]:
        app = create_app()
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30
            ) as http,
        ):
            yield AppClient(app, http)

    return factory


def stub_chain(stub: Any, **extra: Any) -> dict[str, Any]:
    """Settings for a chain on the OpenAI-compatible stub: short timeouts, one retry."""
    return {
        **openai_stub_settings(stub),
        "LLM_MAX_RETRIES": 1,
        "LLM_TIMEOUT_SECONDS": 1.0,
        "LLM_BREAKER_FAILURE_THRESHOLD": 1,
        "LLM_BREAKER_COOLDOWN_SECONDS": 60.0,
        # These tests count every model call of a run; a title call after it would race them.
        "AGENT_MODEL_TITLES": False,
        **extra,
    }


def is_planner(body: dict[str, Any]) -> bool:
    """The planner's request: structured output forces its one function."""
    return isinstance(body.get("tool_choice"), dict)


def primary_with_fallback(stub: Any) -> dict[str, Any]:
    """`stub_chain` with the fallback model `stub-fallback` and a breaker that stays closed, so
    every call tries the primary first."""
    return stub_chain(
        stub, LLM_FALLBACK_MODEL_NAME="stub-fallback", LLM_BREAKER_FAILURE_THRESHOLD=10
    )
