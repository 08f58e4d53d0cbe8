"""Fixtures for rate-limit tests: a real redis-server, limits switched on, settings restored.

Under APP_ENV=test RATE_LIMIT_ENABLED defaults to false so other suites never hit a limit;
these fixtures switch limits on for one test at a time (monkeypatch restores the settings).
`app` is imported inside the fixtures: this conftest may load before the root conftest's
`pytest_configure` has pointed the settings at the test database.
"""

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.redis import RedisServer, start_redis


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the session (tests flush it)."""
    server = start_redis()
    yield server
    server.close()


@pytest.fixture
def limits_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Rate limits enabled with small numbers; in-memory buckets start empty."""
    from app.api.rate_limit import ALL_RATE_LIMITS
    from app.core.config import settings

    monkeypatch.setattr(settings, "RATE_LIMIT_ENABLED", True)
    monkeypatch.setattr(settings, "RATE_LIMIT_PER_MINUTE", 3)
    monkeypatch.setattr(settings, "AUTH_RATE_LIMIT_PER_MINUTE", 3)
    monkeypatch.setattr(settings, "RATE_LIMIT_WINDOW_SECONDS", 60)
    monkeypatch.setattr(settings, "TRUSTED_PROXIES", [])
    for limit in ALL_RATE_LIMITS:
        limit.buckets.reset()
    yield monkeypatch
    for limit in ALL_RATE_LIMITS:
        limit.buckets.reset()


async def use_redis(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Point the app's shared Redis client at `url` (as the lifespan would) and empty it."""
    from app.core import redis as app_redis
    from app.core.config import settings

    monkeypatch.setattr(settings, "REDIS_URL", url)
    client = await app_redis.open_redis()
    assert client is not None
    await client.flushdb()


@pytest.fixture
async def redis_limits(
    limits_on: pytest.MonkeyPatch, redis_server: RedisServer
) -> AsyncIterator[RedisServer]:
    """Limits on, buckets in the session's redis-server."""
    from app.core.redis import close_redis

    await use_redis(limits_on, redis_server.url)
    yield redis_server
    await close_redis()


@pytest.fixture
async def own_redis(limits_on: pytest.MonkeyPatch) -> AsyncIterator[RedisServer]:
    """Limits on, buckets in a redis-server of this test's own (which it may stop and restart)."""
    from app.core.redis import close_redis

    server = start_redis()
    try:
        await use_redis(limits_on, server.url)
        yield server
    finally:
        await close_redis()
        server.close()
