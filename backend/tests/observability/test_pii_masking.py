"""PII masking: Langfuse and the JSON logs receive placeholders; the run log keeps the original."""

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from app.core import telemetry
from app.core.config import settings
from app.core.logging import configure_logging
from tests.fakes.langfuse import LangfuseFake
from tests.observability.conftest import EnableTracing
from tests.utils import API, create_user_and_login

EMAIL = "alice.private@example.org"
CARD = "4111 1111 1111 1111"
API_KEY = "sk-proj-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"
MESSAGE = f"My email is {EMAIL}, my card is {CARD} and my key is {API_KEY}."
ORIGINALS = (EMAIL, CARD, CARD.replace(" ", ""), API_KEY)


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """JSON logs with masking on, captured in a buffer; the normal configuration after."""
    buffer = io.StringIO()
    monkeypatch.setattr(settings, "TELEMETRY_MASK_PII", True)
    configure_logging(
        settings.model_copy(update={"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}), stream=buffer
    )
    yield buffer
    configure_logging(settings)


def _spans_text(fake: LangfuseFake) -> str:
    return json.dumps([span.attributes for span in fake.spans], default=str)


async def _wait_for_spans(fake: LangfuseFake, trace_ids: list[str]) -> None:
    await asyncio.to_thread(telemetry.flush_telemetry)
    for trace_id in trace_ids:

        def probe(trace_id: str = trace_id) -> Any:
            trace = fake.trace(trace_id)
            return trace if trace is not None and trace.output is not None else None

        await fake.await_for(probe, 10)


async def test_langfuse_and_logs_get_placeholders_the_run_log_keeps_originals(
    client: Any,
    langfuse_fake: LangfuseFake,
    enable_tracing: EnableTracing,
    json_logs: io.StringIO,
) -> None:
    enable_tracing(
        langfuse_fake.url,
        langfuse_fake.public_key,
        langfuse_fake.secret_key,
        TELEMETRY_MASK_PII=True,
    )
    headers, _ = await create_user_and_login(client)
    runs = []
    for message in (MESSAGE, f"show my items, then email {EMAIL} the list"):
        response = await client.post(f"{API}/agent/run", json={"message": message}, headers=headers)
        assert response.status_code == 200, response.text
        runs.append(response.json())
    # Things our code and libraries log with user data in them, through both logging paths.
    structlog.get_logger("test").warning("agent.user_said", message=MESSAGE)
    logging.getLogger("test.stdlib").warning("user said %s", MESSAGE)
    try:
        raise ValueError(f"could not parse {MESSAGE}")
    except ValueError:
        structlog.get_logger("test").exception("agent.failed")

    await _wait_for_spans(langfuse_fake, [run["trace_id"] for run in runs])
    sent = _spans_text(langfuse_fake)
    assert "[email]" in sent and "[card]" in sent and "[secret:api_key]" in sent
    for original in ORIGINALS:
        assert original not in sent, original

    logged = json_logs.getvalue()
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "agent.user_said" for line in lines)
    assert "[email]" in logged and "[card]" in logged and "[secret:api_key]" in logged
    assert "could not parse" in logged  # the exception text is there, masked
    for original in ORIGINALS:
        assert original not in logged, original

    # The run log in our database is the user's own data: unmasked.
    stored = (await client.get(f"{API}/agent/runs/{runs[0]['run_id']}", headers=headers)).json()
    assert stored["input"] == MESSAGE


async def test_masking_is_off_by_default_outside_staging_and_production() -> None:
    assert settings.APP_ENV == "test" and settings.TELEMETRY_MASK_PII is None
    assert settings.mask_pii is False
    staging = settings.model_copy(update={"APP_ENV": "staging"})
    assert staging.mask_pii is True
    assert staging.model_copy(update={"TELEMETRY_MASK_PII": False}).mask_pii is False
