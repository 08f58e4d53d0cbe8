"""Infrastructure outages for the fault matrix: a throwaway Redis, a throwaway PostgreSQL.

The session-wide servers other test workers use are never stopped: these cases get their own.
"""

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.support.postgres import PostgresServer, free_port, start_postgres
from tests.support.processes import BACKEND_DIR, child_env, start_api, stop, wait_healthy

ADMIN = ("admin@example.com", "test-admin-password")


def restart_postgres(server: PostgresServer) -> subprocess.CompletedProcess[bytes]:
    """`pg_ctl restart -m fast`: every connection is closed, the server is back when it returns."""
    executor = server.executor
    # `-l`: the new postmaster writes its log there, not to a pipe this call would wait on.
    command = [executor.executable, "restart", "-D", executor.datadir, "-m", "fast", "-w"]
    return subprocess.run(
        [*command, "-l", str(server.base_dir / "postgresql.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=60,
        check=True,
    )


def postgres_down_for(server: PostgresServer, seconds: float) -> None:
    """Stop the server (`pg_ctl stop -m fast`), leave it down `seconds`, start it again."""
    server.executor.stop()
    time.sleep(seconds)
    server.executor.start()


def postmaster_pid(server: PostgresServer) -> str:
    """The running postmaster's process id (postmaster.pid's first line)."""
    return (Path(server.executor.datadir) / "postmaster.pid").read_text().split("\n", 1)[0]


@dataclass
class IsolatedApi:
    """One API process (in-process worker, no Redis) on its own PostgreSQL."""

    postgres: PostgresServer
    process: subprocess.Popen[bytes]
    base_url: str

    def close(self) -> None:
        """Stop the API process and the server."""
        try:
            stop([self.process])
        finally:
            self.postgres.stop()


def start_isolated_api(settings: dict[str, str], logs: Path) -> IsolatedApi:
    """Start PostgreSQL, migrate it (`python -m app.prestart`) and serve the app on it."""
    server = start_postgres()
    try:
        with psycopg.connect(server.url(driver="postgresql"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE app_outage")
        env = child_env(
            DATABASE_URL=server.url("app_outage"),
            FIRST_SUPERUSER=ADMIN[0],
            FIRST_SUPERUSER_PASSWORD=ADMIN[1],
            REDIS_URL="",
            **settings,
        )
        with (logs / "prestart.log").open("wb") as out:
            subprocess.run(
                [sys.executable, "-m", "app.prestart"],
                cwd=BACKEND_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=120,
            )
        port = free_port()
        process = start_api(port, env, logs / "api.log")
        try:
            wait_healthy(process, port, logs / "api.log")
        except BaseException:
            stop([process])
            raise
    except BaseException:
        server.stop()
        raise
    return IsolatedApi(server, process, f"http://127.0.0.1:{port}")


async def admin_headers(http: httpx.AsyncClient) -> dict[str, str]:
    """Bearer headers for the isolated app's first superuser."""
    from tests.utils import login_headers

    return await login_headers(http, *ADMIN)


def stub_env(stub: Any) -> dict[str, str]:
    """Environment for an app process on the OpenAI-compatible stub (no fallback)."""
    return {
        "LLM_MODEL_PROVIDER": "openai",
        "OPENAI_BASE_URL": stub.base_url,
        "OPENAI_API_KEY": "test",
        "LLM_MODEL_NAME": "stub-model",
        "LLM_MAX_RETRIES": "0",
        "LLM_TIMEOUT_SECONDS": "10",
        "AGENT_MODEL_TITLES": "false",
        "LANGFUSE_ENABLED": "false",
        "AGENT_APPROVAL_REQUIRED_TOOLS": '["lookup_user_items"]',
    }
