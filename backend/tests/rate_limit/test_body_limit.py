"""Request body size limit: 413 with a JSON `detail`, by Content-Length and by counted bytes."""

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request

from app.api.errors import add_error_handlers
from app.core.body_limit import BodySizeLimitMiddleware
from app.core.config import settings
from tests.utils import API

LIMIT = settings.MAX_REQUEST_BODY_BYTES


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """`total` bytes in chunks, sent without a Content-Length (chunked)."""
    sent = 0
    while sent < total:
        part = min(size, total - sent)
        sent += part
        yield b"x" * part


async def test_declared_length_over_the_limit_is_refused(client, normal_user_token_headers) -> None:
    body = b'{"message": "' + b"x" * LIMIT + b'"}'
    response = await client.post(
        f"{API}/agent/run",
        content=body,
        headers={**normal_user_token_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"Request body too large: the limit is {LIMIT} bytes.",
        "code": "body_too_large",
    }


async def test_streamed_body_over_the_limit_is_refused(client) -> None:
    response = await client.post(
        f"{API}/login/access-token",
        content=chunks(LIMIT + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body too large")


async def test_body_at_the_limit_passes(client) -> None:
    # Exactly the limit, streamed: reaches the route, which answers for the (bad) JSON body.
    response = await client.post(
        f"{API}/users/signup", content=chunks(LIMIT), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


async def test_invalid_content_length_is_a_400(app) -> None:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"{API}/users/signup",
        "headers": [(b"content-length", b"ten")],
    }
    await BodySizeLimitMiddleware(app, max_bytes=10)(scope, receive, send)
    assert sent[0]["status"] == 400
    assert b"Invalid Content-Length" in sent[1]["body"]


async def test_limit_counts_bytes_the_app_reads_itself() -> None:
    """A route reading `request.stream()` directly still gets cut off with a 413."""
    inner = FastAPI()
    add_error_handlers(inner)
    seen: list[int] = []

    @inner.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        total = 0
        async for part in request.stream():
            total += len(part)
            seen.append(total)
        return {"bytes": total}

    limited = BodySizeLimitMiddleware(inner, max_bytes=100_000)
    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        ok = await http.post("/upload", content=chunks(100_000, 10_000))
        assert ok.json() == {"bytes": 100_000}
        seen.clear()
        refused = await http.post("/upload", content=chunks(150_000, 10_000))
    assert refused.status_code == 413
    assert refused.json() == {
        "detail": "Request body too large: the limit is 100000 bytes.",
        "code": "body_too_large",
    }
    assert max(seen) <= 100_000
