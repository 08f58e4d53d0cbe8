"""X-Request-ID: accepted when valid, generated otherwise, echoed, and in every JSON log line."""

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import settings
from app.core.logging import configure_logging
from app.core.request_context import RequestContextMiddleware
from tests.fakes.langfuse import LangfuseFake
from tests.observability.conftest import EnableTracing
from tests.utils import API, create_item, create_user_and_login

GENERATED = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Log JSON lines at INFO into a buffer for the duration of the test."""
    buffer = io.StringIO()
    configure_logging(
        settings.model_copy(update={"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}), buffer
    )
    yield buffer
    configure_logging(settings)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Every line of the buffer parsed as JSON (a non-JSON line fails the test)."""
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


async def test_valid_incoming_id_is_kept_and_echoed(client: Any) -> None:
    response = await client.get(
        f"{API}/utils/health-check/", headers={"X-Request-ID": "edge-proxy:42.abc_DEF-1"}
    )
    assert response.headers["x-request-id"] == "edge-proxy:42.abc_DEF-1"


@pytest.mark.parametrize(
    "incoming", ["has spaces", "x" * 200, "<script>", "id\twith\ttabs", "-leading-dash", ""]
)
async def test_invalid_incoming_id_is_replaced(client: Any, incoming: str) -> None:
    response = await client.get(f"{API}/utils/health-check/", headers={"X-Request-ID": incoming})
    assert GENERATED.match(response.headers["x-request-id"])


async def test_missing_id_is_generated_per_request(client: Any) -> None:
    first = await client.get(f"{API}/utils/health-check/")
    second = await client.get(f"{API}/utils/health-check/")
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2 and all(GENERATED.match(i) for i in ids)


async def test_error_and_not_found_responses_carry_the_id(client: Any) -> None:
    response = await client.get(f"{API}/items/not-a-uuid", headers={"X-Request-ID": "req-422"})
    assert response.status_code in (401, 422)
    assert response.headers["x-request-id"] == "req-422"


async def test_unhandled_error_is_a_json_500_with_the_id(json_log: io.StringIO) -> None:
    from app.api.errors import unhandled_error

    app = FastAPI()
    app.add_exception_handler(Exception, unhandled_error)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "code": "internal"}
    assert response.headers["x-request-id"] == "req-500"
    errors = [line for line in lines(json_log) if line["event"] == "request.unhandled_error"]
    assert len(errors) == 1 and errors[0]["request_id"] == "req-500"
    access = [line for line in lines(json_log) if line["event"] == "http.request"]
    assert access[-1]["status"] == 500 and access[-1]["route"] == "/boom"


async def test_json_log_lines_carry_request_user_run_and_trace_ids(
    client: Any,
    json_log: io.StringIO,
    langfuse_fake: LangfuseFake,
    enable_tracing: EnableTracing,
) -> None:
    enable_tracing(langfuse_fake.url, langfuse_fake.public_key, langfuse_fake.secret_key)
    headers, user = await create_user_and_login(client)
    await create_item(user.id, title="Lamp")
    response = await client.post(
        f"{API}/agent/run",
        json={"message": "show my items"},
        headers={**headers, "X-Request-ID": "req-agent-1"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["x-request-id"] == "req-agent-1"

    logged = lines(json_log)  # every line is JSON
    mine = [line for line in logged if line.get("request_id") == "req-agent-1"]
    access = [line for line in mine if line["event"] == "http.request"]
    assert len(access) == 1
    assert (
        access[0]
        | {
            "route": "/api/v1/agent/run",
            "method": "POST",
            "status": 200,
            "user_id": str(user.id),
            "run_id": body["run_id"],
            "trace_id": body["trace_id"],
            "level": "info",
        }
        == access[0]
    )
    assert "timestamp" in access[0]
    # Nothing from this request leaks into the next one's context.
    await client.get(f"{API}/utils/health-check/", headers={"X-Request-ID": "req-after"})
    after = [line for line in lines(json_log) if line.get("request_id") == "req-after"]
    assert after and all("run_id" not in line and "user_id" not in line for line in after)
