"""Run uvicorn with WEB_CONCURRENCY workers and JSON logs (started by serve-production.sh).

uvicorn is started from Python with `log_config=None`, so its own lines, the supervisor's
included, go through the application's structlog pipeline instead of uvicorn's plain-text
default: in production every line on stdout/stderr is one JSON object.
"""

import os
import sys

import uvicorn
from pydantic import ValidationError


def main() -> int:
    """Validate the settings, configure logging, serve."""
    # serve-production.sh runs this from the backend directory; make `app` importable from there
    # (the spawned workers inherit sys.path) whether or not the project is installed editable.
    sys.path.insert(0, os.getcwd())
    try:
        from app.core.config import settings
    except ValidationError as exc:
        for error in exc.errors():
            print(f"serve-production: invalid configuration: {error['msg']}", file=sys.stderr)
        return 2
    from app.core.logging import configure_logging

    configure_logging(settings)
    uvicorn.run(
        "app.main:app",
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        workers=int(os.environ.get("WEB_CONCURRENCY", "2")),
        log_config=None,
        # The app resolves client IPs itself from TRUSTED_PROXIES (app/core/client_ip.py);
        # uvicorn rewriting the peer from X-Forwarded-For would let loopback clients spoof it.
        proxy_headers=False,
        server_header=False,
        # Requests and SSE streams in flight get this long to finish (app/api/run_responses.py).
        timeout_graceful_shutdown=settings.GRACEFUL_SHUTDOWN_SECONDS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
