"""The process-wide Redis client: opened in the app lifespan, `None` when Redis isn't configured."""

from typing import Any, Literal

import structlog
from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError, RedisError, TimeoutError
from redis.retry import Retry

from app.core.config import settings

logger = structlog.get_logger(__name__)

RedisStatus = Literal["ok", "error", "disabled"]

_client: Redis | None = None

# For the run layer's own clients (queue, event log, cancel bus): a Redis with `timeout` set
# closes idle connections, so a connection idle for a while is PINGed first, and a dead one
# is replaced on a retry instead of failing the request.
RESILIENT: dict[str, Any] = {
    "health_check_interval": 10,
    "retry": Retry(ExponentialBackoff(cap=0.5, base=0.02), retries=3),
    "retry_on_error": [ConnectionError, TimeoutError],
}


def create_redis() -> Redis | None:
    """A client for REDIS_URL (or REDIS_HOST/...), or None when Redis isn't configured."""
    url = settings.redis_url
    if url is None:
        return None
    timeout = settings.REDIS_SOCKET_TIMEOUT_SECONDS
    # Short timeouts and a single immediate retry: a pooled connection that died with a Redis
    # restart is replaced on the retry, while a Redis that is really down fails fast so the
    # rate limiter can apply its failure policy instead of stalling requests.
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), retries=1),
        health_check_interval=30,
    )


async def open_redis() -> Redis | None:
    """Create the shared client (lifespan start-up); connections open lazily on first use."""
    global _client
    await close_redis()
    _client = create_redis()
    if _client is not None:
        logger.info("redis.configured", status=await redis_status())
    return _client


async def close_redis() -> None:
    """Close the shared client (lifespan shutdown)."""
    global _client
    client, _client = _client, None
    if client is not None:
        await client.aclose()


def get_redis() -> Redis | None:
    """The shared client, or None when Redis isn't configured."""
    return _client


async def redis_status() -> RedisStatus:
    """`ok` when Redis answers PING, `error` when it doesn't, `disabled` when not configured."""
    if _client is None:
        return "disabled"
    try:
        await _client.ping()
    except (RedisError, OSError) as exc:
        logger.warning("redis.unreachable", error_type=type(exc).__name__)
        return "error"
    return "ok"
