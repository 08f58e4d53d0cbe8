"""The worker's `/metrics` on its own port (WORKER_METRICS_PORT), behind the API's token check.

The worker has no HTTP server of its own, and agent runs (with their run, token and LLM metrics)
execute there: Prometheus scrapes this endpoint on every worker replica.
"""

import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST

from app.core.metrics import render_metrics, scrape_authorized

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each (stderr would break the JSON log stream)."""


def _app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found\n"]
    if not scrape_authorized(environ.get("HTTP_AUTHORIZATION", "")):
        start_response(
            "401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")]
        )
        return [b"Invalid or missing metrics token\n"]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [render_metrics()]


def start_metrics_server(port: int, host: str = "0.0.0.0") -> Callable[[], None]:  # noqa: S104
    """Serve /metrics from a daemon thread (all interfaces: Prometheus scrapes from another
    container or pod); returns the function that stops it."""
    server = make_server(host, port, _app, server_class=_Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop
