"""Fixtures for the evaluation tests: the fake Langfuse, the judge stub, and settings switches."""

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from app.core import telemetry
from app.core.config import settings
from tests.fakes.fixtures import (  # noqa: F401
    langfuse_fake,
    langfuse_fake_server,
    openai_stub,
    openai_stub_server,
)
from tests.fakes.langfuse import LangfuseFake
from tests.fakes.openai_server import OpenAIStub

SetSettings = Callable[..., None]


@pytest.fixture
def set_settings(monkeypatch: pytest.MonkeyPatch) -> SetSettings:
    """Change settings for one test (`set_settings(NAME=value)`); restored afterwards."""

    def apply(**values: Any) -> None:
        for name, value in values.items():
            monkeypatch.setattr(settings, name, value)

    return apply


@pytest.fixture
async def langfuse_on(
    langfuse_fake: LangfuseFake,  # noqa: F811 - the imported fixture
    set_settings: SetSettings,
) -> AsyncIterator[LangfuseFake]:
    """The app's Langfuse settings pointed at the fake; the client is shut down afterwards."""
    set_settings(
        LANGFUSE_ENABLED=True,
        LANGFUSE_PUBLIC_KEY=langfuse_fake.public_key,
        LANGFUSE_SECRET_KEY=langfuse_fake.secret_key,
        LANGFUSE_BASE_URL=langfuse_fake.url,
        LANGFUSE_SAMPLE_RATE=1.0,
        LANGFUSE_FLUSH_INTERVAL_SECONDS=0.1,
    )
    yield langfuse_fake
    set_settings(LANGFUSE_SHUTDOWN_TIMEOUT_SECONDS=2.0)
    await telemetry.shutdown_telemetry()


@pytest.fixture
def langfuse_off(set_settings: SetSettings) -> None:
    """No Langfuse: the evaluator must work from the database alone."""
    set_settings(LANGFUSE_ENABLED=False, LANGFUSE_PUBLIC_KEY=None, LANGFUSE_SECRET_KEY=None)


@pytest.fixture
def judge_stub(
    openai_stub: OpenAIStub,  # noqa: F811 - the imported fixture
    set_settings: SetSettings,
) -> Iterator[OpenAIStub]:
    """The LLM judge pointed at the OpenAI-compatible stub, with fast retries."""
    set_settings(
        EVALUATION_BASE_URL=openai_stub.base_url,
        EVALUATION_API_KEY="test-key",
        EVALUATION_LLM="gpt-4o-mini",
        EVALUATION_JUDGE="llm",
        EVALUATION_SLEEP_TIME=0.0,
        EVALUATION_RETRY_MAX_WAIT_SECONDS=0.2,
    )
    yield openai_stub


@pytest.fixture
def reports_dir(tmp_path: Any, set_settings: SetSettings) -> Any:
    """Reports go to a temporary directory."""
    path = tmp_path / "reports"
    set_settings(EVALUATION_REPORTS_DIR=path)
    return path
