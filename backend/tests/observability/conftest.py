"""Fixtures for the observability tests: the fake Langfuse and tracing switched on against it."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.fakes.fixtures import (  # noqa: F401
    black_hole,
    closed_port_url,
    langfuse_fake,
    langfuse_fake_server,
    openai_stub,
    openai_stub_server,
)

EnableTracing = Callable[..., None]


@pytest.fixture
async def enable_tracing(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[EnableTracing]:
    """Point the app's Langfuse settings somewhere; the client is rebuilt and shut down after."""
    # Imported here: this conftest loads before the harness has set up the test environment.
    from app.core import telemetry
    from app.core.config import settings

    def enable(base_url: str, public_key: str, secret_key: str, **extra: Any) -> None:
        values = {
            "LANGFUSE_ENABLED": True,
            "LANGFUSE_PUBLIC_KEY": public_key,
            "LANGFUSE_SECRET_KEY": secret_key,
            "LANGFUSE_BASE_URL": base_url,
            "LANGFUSE_PROJECT_ID": None,
            "LANGFUSE_PUBLIC_URL": None,
            "LANGFUSE_SAMPLE_RATE": 1.0,
            **extra,
        }
        for name, value in values.items():
            monkeypatch.setattr(settings, name, value)

    yield enable
    monkeypatch.setattr(settings, "LANGFUSE_SHUTDOWN_TIMEOUT_SECONDS", 2.0)
    await telemetry.shutdown_telemetry()
