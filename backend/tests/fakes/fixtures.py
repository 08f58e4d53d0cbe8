"""Pytest fixtures for the fakes: one server per session, state reset for every test.

Import into a conftest:
    from tests.fakes.fixtures import (  # noqa: F401
        anthropic_stub, black_hole, closed_port_url, langfuse_fake, openai_stub,
    )
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_server import AnthropicStub
from tests.fakes.background import BlackHoleServer, closed_port
from tests.fakes.langfuse import LangfuseFake
from tests.fakes.openai_server import OpenAIStub


@pytest.fixture(scope="session")
def langfuse_fake_server() -> Iterator[LangfuseFake]:
    """The fake Langfuse, started once per session (use `langfuse_fake` in tests)."""
    with LangfuseFake() as fake:
        yield fake


@pytest.fixture
def langfuse_fake(langfuse_fake_server: LangfuseFake) -> LangfuseFake:
    """The fake Langfuse with empty state, default keys only and no faults."""
    langfuse_fake_server.reset()
    return langfuse_fake_server


@pytest.fixture(scope="session")
def openai_stub_server() -> Iterator[OpenAIStub]:
    """The OpenAI-compatible stub, started once per session (use `openai_stub` in tests)."""
    with OpenAIStub() as stub:
        yield stub


@pytest.fixture
def openai_stub(openai_stub_server: OpenAIStub) -> OpenAIStub:
    """The OpenAI-compatible stub in auto mode, with an empty queue and no recorded requests."""
    openai_stub_server.reset()
    return openai_stub_server


@pytest.fixture(scope="session")
def anthropic_stub_server() -> Iterator[AnthropicStub]:
    """The Anthropic messages stub, started once per session (use `anthropic_stub` in tests)."""
    with AnthropicStub() as stub:
        yield stub


@pytest.fixture
def anthropic_stub(anthropic_stub_server: AnthropicStub) -> AnthropicStub:
    """The Anthropic messages stub in auto mode, with an empty queue and no recorded requests."""
    anthropic_stub_server.reset()
    return anthropic_stub_server


@pytest.fixture
def black_hole() -> Iterator[BlackHoleServer]:
    """A loopback server that accepts connections and never answers (`.url`, `.accepted`)."""
    with BlackHoleServer() as server:
        yield server


@pytest.fixture
def closed_port_url() -> str:
    """An http:// URL on loopback where nothing listens (connections are refused)."""
    return f"http://127.0.0.1:{closed_port()}"
