"""The worker's own /metrics server (WORKER_METRICS_PORT): token-checked like the API's."""

import socket
from collections.abc import Iterator

import httpx
import pytest

from app.core.config import settings
from app.core.metrics_server import start_metrics_server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def worker_metrics_url() -> Iterator[str]:
    port = _free_port()
    stop = start_metrics_server(port, host="127.0.0.1")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop()


def test_worker_metrics_need_the_token(
    worker_metrics_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "METRICS_BEARER_TOKEN", "scrape-secret")
    missing = httpx.get(f"{worker_metrics_url}/metrics", timeout=5)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    wrong = httpx.get(
        f"{worker_metrics_url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert wrong.status_code == 401
    ok = httpx.get(
        f"{worker_metrics_url}/metrics",
        headers={"Authorization": "Bearer scrape-secret"},
        timeout=5,
    )
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("text/plain")
    assert "agent_invocations_by_status_total" in ok.text


def test_worker_metrics_serve_only_metrics(worker_metrics_url: str) -> None:
    assert httpx.get(f"{worker_metrics_url}/", timeout=5).status_code == 404


def test_stopped_server_frees_its_port() -> None:
    port = _free_port()
    start_metrics_server(port, host="127.0.0.1")()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
