"""Browser security headers from the one middleware: the app, the SPA, errors and the docs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import settings
from app.core.security_headers import content_security_policy
from tests.utils import API, create_user_and_login


@asynccontextmanager
async def app_with(
    monkeypatch: pytest.MonkeyPatch, **values: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for a new app built with these settings (restored after the test)."""
    from app.main import create_app

    for name, value in values.items():
        monkeypatch.setattr(settings, name, value)
    app = create_app()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield http


def _csp(response: httpx.Response) -> dict[str, str]:
    parts = [p.strip() for p in response.headers["content-security-policy"].split(";")]
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] if " " in p else "" for p in parts}


def assert_app_policy(response: httpx.Response) -> None:
    """The strict policy: no sniffing, no referrer, no framing, scripts only from this origin."""
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    csp = _csp(response)
    assert csp["default-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    assert csp["script-src"] == "'self'" and csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'" and csp["form-action"] == "'self'"


async def test_api_and_errors_carry_the_headers(client) -> None:
    for response in (
        await client.get(f"{API}/utils/health-check/"),
        await client.get(f"{API}/users/me"),  # 401
        await client.get(f"{API}/no-such-route"),  # 404
    ):
        assert_app_policy(response)
        csp = _csp(response)
        assert csp["img-src"].split() == ["'self'", "data:", "blob:"]
        assert csp["connect-src"] == "'self'"


async def test_every_kind_of_api_answer_carries_the_headers(client) -> None:
    """Validation errors, conflicts, bodies refused by the size middleware and event streams."""
    headers, user = await create_user_and_login(client)
    run = await client.post(f"{API}/agent/run", headers=headers, json={"message": "hello"})
    assert run.status_code == 200, run.text
    stream = await client.get(f"{API}/agent/runs/{run.json()['run_id']}/stream", headers=headers)
    assert stream.headers["content-type"].startswith("text/event-stream")
    invalid = await client.post(f"{API}/items/", headers=headers, json={"title": ""})
    taken = await client.patch(f"{API}/users/me", headers=headers, json={"email": user.email})
    too_large = await client.post(
        f"{API}/items/",
        headers={**headers, "Content-Type": "application/json"},
        content=b"x" * (settings.MAX_REQUEST_BODY_BYTES + 1),
    )
    assert [invalid.status_code, too_large.status_code] == [422, 413]
    for response in (run, stream, invalid, taken, too_large):
        assert_app_policy(response)


async def test_docs_get_a_policy_that_lets_swagger_load(client) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "cdn.jsdelivr.net" in docs.text
    csp = _csp(docs)
    assert "https://cdn.jsdelivr.net" in csp["script-src"]
    assert "'unsafe-inline'" in csp["script-src"]  # Swagger UI's bootstrap script
    assert csp["frame-ancestors"] == "'none'" and csp["connect-src"] == "'self'"
    # Only the docs: the app keeps the strict policy.
    assert "cdn.jsdelivr.net" not in _csp(await client.get(f"{API}/openapi.json"))["script-src"]


def test_configured_origins_extend_img_and_connect() -> None:
    config = settings.model_copy(
        update={
            "CHAT_IMAGE_ALLOWED_ORIGINS": ["https://img.example.com/"],
            "CSP_CONNECT_SRC_ORIGINS": ["https://api.example.com"],
        }
    )
    policy = content_security_policy(config)
    assert "img-src 'self' data: blob: https://img.example.com;" in policy
    assert "connect-src 'self' https://api.example.com;" in policy


async def test_the_spa_and_its_assets_carry_the_headers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<html><script src="/theme-init.js"></script></html>')
    (dist / "assets" / "app.js").write_text("console.log(1)")
    async with app_with(
        monkeypatch, FRONTEND_DIST_DIR=dist, CHAT_IMAGE_ALLOWED_ORIGINS=["https://img.example.com"]
    ) as client:
        for path in ("/", "/chat", "/assets/app.js"):
            response = await client.get(path)
            assert response.status_code == 200
            assert "https://img.example.com" in _csp(response)["img-src"]
            assert_app_policy(response)
        config = (await client.get(f"{API}/utils/client-config/")).json()
    assert config == {"chat_image_allowed_origins": ["https://img.example.com"]}


async def test_headers_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    async with app_with(monkeypatch, SECURITY_HEADERS_ENABLED=False) as client:
        response = await client.get(f"{API}/utils/health-check/")
    assert "content-security-policy" not in response.headers


@pytest.mark.parametrize(
    "origin", ["https://ok.test; script-src *", "img.test", "https://a.test/path"]
)
def test_origins_must_be_origins(origin: str) -> None:
    from pydantic import ValidationError

    from app.core.config import Settings

    with pytest.raises(ValidationError, match="CHAT_IMAGE_ALLOWED_ORIGINS"):
        Settings(CHAT_IMAGE_ALLOWED_ORIGINS=[origin])
    assert Settings(CSP_CONNECT_SRC_ORIGINS=["https://api.example.com:8443"])


async def test_an_unhandled_error_500_carries_the_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from app.core.logging import configure_logging
    from app.main import create_app

    monkeypatch.setattr(settings, "FRONTEND_DIST_DIR", None)  # no SPA catch-all before /boom
    app = create_app()

    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/boom", boom)
    origin = settings.all_cors_origins[0]
    log = io.StringIO()
    configure_logging(settings.model_copy(update={"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}), log)
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.get(
                "/boom", headers={"X-Request-ID": "req-500", "Origin": origin}
            )
    finally:
        configure_logging(settings)
    assert response.status_code == 500, response.text[:300]
    assert response.json() == {"detail": "Internal server error", "code": "internal"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert _csp(response)["default-src"] == "'self'"
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["x-request-id"] == "req-500"
    logged = [line for line in log.getvalue().splitlines() if "request.unhandled_error" in line]
    assert len(logged) == 1  # answered once, logged once
