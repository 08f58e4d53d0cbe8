"""Health check: database readiness (Redis is reported; its own tests cover the degraded case)."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.deps import get_db
from tests.support.postgres import free_port
from tests.utils import API

HEALTH = f"{API}/utils/health-check/"


async def test_health_check_database_ok(client: httpx.AsyncClient) -> None:
    response = await client.get(HEALTH)
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] in ("ok", "disabled")
    assert body["status"] == "ok"


async def test_health_check_needs_no_login(client: httpx.AsyncClient) -> None:
    response = await client.get(HEALTH, headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 200


async def test_health_check_database_down_is_503(client: httpx.AsyncClient, app: Any) -> None:
    """A real engine pointed at a closed loopback port: the check reports the error, no 500."""
    engine = create_async_engine(
        f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none",
        connect_args={"connect_timeout": 2},
    )
    unreachable = async_sessionmaker(engine, class_=AsyncSession)

    async def unreachable_session() -> AsyncIterator[AsyncSession]:
        async with unreachable() as session:
            yield session

    app.dependency_overrides[get_db] = unreachable_session
    try:
        response = await client.get(HEALTH)
    finally:
        app.dependency_overrides.pop(get_db, None)
        await engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"].startswith("error: ")
    # Back to healthy once the real database is used again.
    assert (await client.get(HEALTH)).status_code == 200
