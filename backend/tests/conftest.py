"""Test harness: a throwaway PostgreSQL (or SQLite with TEST_DATABASE=sqlite), migrated once.

The server starts when this conftest is imported, before anything imports `app`, so the app's
one settings object already points at it. Every test starts from empty tables plus the first
superuser.
"""

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.fixtures import (  # noqa: F401  (fixtures for every test module)
    anthropic_stub,
    anthropic_stub_server,
    black_hole,
    closed_port_url,
    langfuse_fake,
    langfuse_fake_server,
    openai_stub,
    openai_stub_server,
)
from tests.support.postgres import PostgresServer, start_postgres

_server: PostgresServer | None = None
_tmp_dir = Path(tempfile.mkdtemp(prefix="app-tests-"))

TEST_ENV = {
    "APP_ENV": "test",
    "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
    "FIRST_SUPERUSER": "admin@example.com",
    "FIRST_SUPERUSER_PASSWORD": "test-admin-password",
    "DATA_DIR": str(_tmp_dir / "data"),
    "FRONTEND_DIST_DIR": "",
    "LOG_LEVEL": "WARNING",
}


def _start_database() -> None:
    """Start the database server and migrate it.

    Runs when this root conftest is imported, i.e. before any other conftest or test module can
    import `app` (whose one settings object is read at import time).
    """
    global _server
    for key, value in TEST_ENV.items():
        os.environ.setdefault(key, value)
    if os.environ.get("TEST_DATABASE", "postgres") == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite+aiosqlite:///{_tmp_dir / 'test.db'}"
    else:
        import psycopg

        _server = start_postgres()
        with psycopg.connect(_server.url(driver="postgresql"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE app_test")
        os.environ["DATABASE_URL"] = _server.url("app_test")
    from app.core.config import settings

    # Real Argon2id at its minimum cost, for this process only (not in the environment, which
    # servers started by tests and production-mode Settings() read): a thousand tests hash and
    # verify passwords. Set before app.core.security builds its hasher from these values;
    # tests/core/test_security.py times logins at the default cost.
    settings.PASSWORD_HASH_TIME_COST = 1
    settings.PASSWORD_HASH_MEMORY_KIB = 1024
    from app.prestart import run_migrations

    run_migrations()


_start_database()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the database server."""
    if _server is not None:
        _server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    """The running test PostgreSQL server (skips nothing: the SQLite run never asks for it)."""
    assert _server is not None, "this test needs PostgreSQL (TEST_DATABASE=postgres)"
    return _server


@pytest.fixture(scope="session")
async def app() -> AsyncIterator[Any]:
    """The application with its lifespan running."""
    from app.main import app as fastapi_app

    async with fastapi_app.router.lifespan_context(fastapi_app):
        yield fastapi_app


@pytest.fixture(autouse=True)
async def clean_db() -> AsyncIterator[None]:
    """Empty every table, then create the first superuser."""
    from sqlalchemy import text
    from sqlmodel import SQLModel

    from app.core.db import engine
    from app.prestart import create_first_superuser
    from app.services.auth.session_cache import session_cache

    session_cache.forget(None)  # the rows it remembers go below, by SQL the ORM doesn't see
    tables = [table.name for table in SQLModel.metadata.sorted_tables]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            await conn.execute(text(f"TRUNCATE {quoted} CASCADE"))
        else:
            for name in reversed(tables):
                await conn.execute(text(f'DELETE FROM "{name}"'))
    await create_first_superuser()
    yield


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    """An HTTP client talking to the app in-process."""
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def superuser_token_headers(client: Any) -> dict[str, str]:
    """Authorization headers for the first superuser."""
    from tests.utils import login_headers

    return await login_headers(
        client, os.environ["FIRST_SUPERUSER"], os.environ["FIRST_SUPERUSER_PASSWORD"]
    )


@pytest.fixture
async def normal_user_token_headers(client: Any) -> dict[str, str]:
    """Authorization headers for a fresh normal user."""
    from tests.utils import create_user_and_login

    headers, _ = await create_user_and_login(client)
    return headers
