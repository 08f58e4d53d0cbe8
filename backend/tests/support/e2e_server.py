"""Serve the whole app for browser end-to-end tests, on a throwaway PostgreSQL.

    cd backend && uv run python -m tests.support.e2e_server --port 8765 --log-file /tmp/e2e.log

Starts PostgreSQL from the machine's binaries (tests.support.postgres), creates a database,
migrates it and creates the first superuser (`app.prestart`), then serves the API and the built
frontend (../frontend/dist) with uvicorn on 127.0.0.1. Logs (JSON lines, including the
`email.logged` events that carry password-reset links) go to the log file. SIGTERM or SIGINT
stops uvicorn and PostgreSQL and deletes the data directory. With --echo-port, a loopback echo
endpoint (allowlisted for the agent's HTTP tools) lets the approval tests run http_post offline.
A guardrail policy file blocks inputs containing E2E_BLOCKED_PHRASE (rule E2E_BLOCKED_RULE).
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from tests.support.postgres import PostgresServer, start_postgres

BACKEND_DIR = Path(__file__).resolve().parents[2]
E2E_SUPERUSER = "admin@example.com"
E2E_SUPERUSER_PASSWORD = "e2e-admin-password"
E2E_BLOCKED_RULE = "e2e_pod_bay_doors"
E2E_BLOCKED_PHRASE = "open the pod bay doors"
# Variables a caller may set to tune the server (e.g. a slow offline model for the Stop test).
PASSTHROUGH = (
    "OFFLINE_MODEL_TOKENS_PER_SECOND",
    "OFFLINE_MODEL_LATENCY_MS",
    "AGENT_MAX_INPUT_CHARS",
    "AGENT_HTTP_ALLOWED_HOSTS",
    "APPROVAL_TIMEOUT_MINUTES",
    "LOG_LEVEL",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--log-file", type=Path, required=True)
    parser.add_argument(
        "--frontend-dist", type=Path, default=BACKEND_DIR.parent / "frontend" / "dist"
    )
    parser.add_argument(
        "--echo-port",
        type=int,
        default=0,
        help="also serve a loopback echo endpoint here and allowlist it for the agent's HTTP tools",
    )
    return parser.parse_args(argv)


class EchoHandler(BaseHTTPRequestHandler):
    """A local target for the agent's http_post/http_get: records POSTs (GET /received lists them)
    and other GETs (GET /hits lists their paths)."""

    received: list[dict[str, object]] = []
    hits: list[str] = []

    def _answer(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        text = self.rfile.read(length).decode("utf-8", "replace")
        self.received.append({"path": self.path, "body": text})
        self._answer(200, {"ok": True, "path": self.path, "received": text})

    def do_GET(self) -> None:
        if self.path == "/received":
            self._answer(200, self.received)
        elif self.path == "/hits":
            self._answer(200, self.hits)
        else:
            # Also the canary of the exfiltration tests: every other GET is recorded.
            self.hits.append(self.path)
            self._answer(200, {"ok": True, "path": self.path})

    def log_message(self, format: str, *args: object) -> None:
        return


def start_echo_server(port: int) -> ThreadingHTTPServer:
    """Serve EchoHandler on 127.0.0.1:port in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), EchoHandler)
    threading.Thread(target=server.serve_forever, name="e2e-echo", daemon=True).start()
    return server


def _stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so `finally` stops PostgreSQL.
    raise SystemExit(128 + signum)


def server_env(database_url: str, port: int, dist: Path, data_dir: Path) -> dict[str, str]:
    """The app's environment for the run (set before `app` is imported)."""
    env = {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret-key-0123456789abcdef0123456789abcdef",
        "FIRST_SUPERUSER": E2E_SUPERUSER,
        "FIRST_SUPERUSER_PASSWORD": E2E_SUPERUSER_PASSWORD,
        "FRONTEND_DIST_DIR": str(dist),
        "FRONTEND_HOST": f"http://127.0.0.1:{port}",
        "DATA_DIR": str(data_dir),
        "LLM_MODEL_PROVIDER": "offline",
        "LANGFUSE_ENABLED": "false",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        # Real Argon2id at its minimum cost: the browser tests sign up and sign in many times.
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
    }
    env.update({key: os.environ[key] for key in PASSTHROUGH if os.environ.get(key)})
    return env


def write_guardrail_policy(data_dir: Path) -> Path:
    """A policy file with one named input rule, for the guardrail notice test."""
    path = data_dir / "guardrails.yaml"
    path.write_text(
        "input:\n  blocked_patterns:\n"
        f"    - name: {E2E_BLOCKED_RULE}\n      pattern: '{E2E_BLOCKED_PHRASE}'\n"
    )
    return path


def create_database(server: PostgresServer, name: str, timeout: float = 60.0) -> None:
    """CREATE DATABASE, retrying while the server finishes starting (slow on a busy machine)."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(server.url(driver="postgresql"), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run(args: argparse.Namespace) -> None:
    """Start PostgreSQL, prepare the database, serve until stopped."""
    server: PostgresServer | None = None
    try:
        server = start_postgres()
        create_database(server, "app_e2e")
        data_dir = Path(tempfile.mkdtemp(prefix="app-e2e-data-"))
        os.environ.update(
            server_env(server.url("app_e2e"), args.port, args.frontend_dist.resolve(), data_dir)
        )
        os.environ.setdefault("AGENT_GUARDRAIL_POLICY_FILE", str(write_guardrail_policy(data_dir)))
        if args.echo_port:
            start_echo_server(args.echo_port)
            os.environ.setdefault("AGENT_HTTP_ALLOWED_HOSTS", "127.0.0.1")

        from app import prestart

        asyncio.run(prestart.main())

        import uvicorn

        # log_config=None keeps the app's structlog handlers (JSON lines on stderr -> log file).
        uvicorn.run("app.main:app", host="127.0.0.1", port=args.port, log_config=None)
    finally:
        if server is not None:
            server.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point: route stdout/stderr to the log file, then run."""
    args = parse_args(argv)
    if not (args.frontend_dist / "index.html").is_file():
        sys.exit(
            f"{args.frontend_dist}/index.html not found: run `npm run build` in frontend/ first"
        )
    signal.signal(signal.SIGTERM, _stop_on_signal)
    args.log_file.parent.mkdir(parents=True, exist_ok=True)
    log = args.log_file.open("w", buffering=1)
    # Everything the process writes (app logs, uvicorn, tracebacks) lands in one file.
    os.dup2(log.fileno(), sys.stderr.fileno())
    print(f"e2e server: logging to {args.log_file}", flush=True)
    run(args)


if __name__ == "__main__":
    main()
