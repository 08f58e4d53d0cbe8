"""Rate limits: fastapi-limiter's `RateLimiter` per user (agent) and per client IP (auth).

fastapi-limiter 0.2 hands a `pyrate_limiter.Limiter` to its dependency. Built as its README shows
(`Limiter(Rate(...))`), that limiter holds ONE bucket for every caller — the key only names the
item, so user A's requests throttle user B — its callback never learns the retry-after, and a Redis
error escapes as a 500. So `RateLimit` keeps the library's contract (limiter, identifier, callback)
but routes each key to its own pyrate-limiter bucket (a Redis sorted set shared by every worker
and replica when Redis is configured, memory otherwise), sets `X-RateLimit-*` / `Retry-After`, and
applies RATE_LIMIT_FAIL_OPEN when Redis is unreachable. Runs as a route dependency, so a refused
streaming request is refused before its stream starts.
"""

import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any, TypeVar

import structlog
from fastapi import HTTPException, Request, Response, status
from fastapi_limiter.depends import RateLimiter
from pyrate_limiter import (
    AbstractBucket,
    BucketFactory,
    Duration,
    InMemoryBucket,
    Limiter,
    Rate,
    RateItem,
    RedisBucket,
)
from redis.exceptions import NoScriptError, RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.deps import (
    CREDENTIALS_ERROR,
    CurrentUserOrApiKey,
    reusable_oauth2,
    user_id_from_token,
)
from app.core.client_ip import client_ip
from app.core.config import settings
from app.core.metrics import RATE_LIMIT_BACKEND_ERRORS, record_rate_limit_rejection
from app.core.redis import get_redis

logger = structlog.get_logger(__name__)

# The SHA-1 of pyrate-limiter's Lua script, learnt from the first `RedisBucket.init` (which
# loads the script: the library's public way), so later buckets skip the SCRIPT LOAD round trip.
_script_hash: str | None = None
_MEMORY_PRUNE_AT = 10_000
_WARN_EVERY_SECONDS = 10.0
T = TypeVar("T")


@dataclass(frozen=True)
class RateLimitVerdict:
    """The outcome of one rate-limit check."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int = 0

    def headers(self) -> dict[str, str]:
        """`X-RateLimit-*`, plus `Retry-After` when refused."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


async def _resolved(value: T | Awaitable[T]) -> T:
    return await value if isawaitable(value) else value


class ReloadingRedisBucket(RedisBucket):
    """pyrate-limiter's Redis bucket, loading its Lua script again after a Redis restart."""

    def put(self, item: RateItem) -> Awaitable[bool]:
        """Check and insert atomically (one EVALSHA); SCRIPT LOAD and retry on NOSCRIPT."""
        return self._put(item)

    async def _put(self, item: RateItem) -> bool:
        try:
            return bool(await _resolved(super().put(item)))
        except NoScriptError:  # Redis restarted and forgot the script: init loads it again
            fresh = await _resolved(RedisBucket.init(self.rates, self.redis, self.bucket_key))
            self.script_hash = fresh.script_hash
            return bool(await _resolved(super().put(item)))


async def _first_redis_bucket(rate: Rate, redis: Any, key: str) -> AbstractBucket:
    global _script_hash
    bucket: ReloadingRedisBucket = await _resolved(ReloadingRedisBucket.init([rate], redis, key))
    _script_hash = bucket.script_hash
    return bucket


class KeyedBuckets(BucketFactory):
    """One sliding-window bucket per key: Redis sorted sets with Redis, else memory."""

    def __init__(self, rate: Callable[[], Rate]) -> None:
        self._rate = rate
        self._memory: dict[tuple[str, int, int], InMemoryBucket] = {}

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        """Stamp with wall-clock milliseconds, the one clock all workers and replicas share."""
        return RateItem(name, time.time_ns() // 1_000_000, weight=weight)

    def get(self, item: RateItem) -> AbstractBucket | Awaitable[AbstractBucket]:
        """The bucket for the item's key (its name)."""
        return self._bucket(item.name, self._rate(), item.timestamp)

    def _bucket(self, key: str, rate: Rate, now: int) -> AbstractBucket | Awaitable[AbstractBucket]:
        redis = get_redis()
        if redis is not None:
            if _script_hash is None:
                return _first_redis_bucket(rate, redis, key)
            return ReloadingRedisBucket([rate], redis, key, _script_hash)
        slot = (key, rate.limit, rate.interval)
        bucket = self._memory.get(slot)
        if bucket is None:
            if len(self._memory) >= _MEMORY_PRUNE_AT:
                self._prune(now)
            bucket = self._memory[slot] = InMemoryBucket([rate])
        bucket.leak(now)  # drop entries that left the window, so count() is the window's
        return bucket

    def _prune(self, now: int) -> None:
        for slot, bucket in list(self._memory.items()):
            bucket.leak(now)
            if bucket.count() == 0:
                del self._memory[slot]

    def reset(self) -> None:
        """Forget every in-memory bucket (tests)."""
        self._memory.clear()

    async def acquire(self, key: str) -> RateLimitVerdict:
        """Count one request against `key`; raises RedisError/OSError when Redis is unreachable."""
        rate = self._rate()
        item = self.wrap_item(key)
        bucket = await _resolved(self._bucket(key, rate, item.timestamp))
        window_start = item.timestamp - rate.interval
        redis = get_redis()
        decision = await _resolved(bucket.put_decision(item))
        if redis is not None and isinstance(bucket, RedisBucket):
            # Housekeeping the library leaves to a leaker thread: drop entries that left the
            # window, read the count for X-RateLimit-Remaining, expire idle keys.
            async with redis.pipeline(transaction=False) as pipe:
                pipe.zremrangebyscore(key, "-inf", f"({window_start}")
                pipe.zcard(key)
                pipe.pexpire(key, rate.interval + 1000)
                _, count, _ = await pipe.execute()
        else:
            count = await _resolved(bucket.count())
        if decision.allowed:
            return RateLimitVerdict(True, rate.limit, max(0, rate.limit - int(count)))
        wait_ms = rate.interval if decision.retry_after_ms is None else decision.retry_after_ms
        return RateLimitVerdict(False, rate.limit, 0, max(1, math.ceil(wait_ms / 1000)))


class _BackendHealth:
    """Log Redis failures at most every few seconds, and the recovery once."""

    down_since: float | None = None
    last_warning: float = 0.0

    @classmethod
    def failed(cls, scope: str, exc: BaseException) -> None:
        now = time.monotonic()
        policy = "open" if settings.RATE_LIMIT_FAIL_OPEN else "closed"
        RATE_LIMIT_BACKEND_ERRORS.labels(scope, policy).inc()
        if cls.down_since is None:
            cls.down_since = now
        if now - cls.last_warning >= _WARN_EVERY_SECONDS:
            cls.last_warning = now
            logger.warning(
                "rate_limit.redis_unavailable",
                scope=scope,
                policy=policy,
                error_type=type(exc).__name__,
                error=str(exc),
            )

    @classmethod
    def ok(cls) -> None:
        if cls.down_since is not None:
            logger.info(
                "rate_limit.redis_recovered", down_seconds=time.monotonic() - cls.down_since
            )
            cls.down_since = None
            cls.last_warning = 0.0


async def too_many_requests(request: Request, _response: Response) -> None:
    """The 429 callback: JSON `detail`, `Retry-After` and `X-RateLimit-*` headers."""
    verdict: RateLimitVerdict = request.state.rate_limit
    raise HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=(
            f"Rate limit exceeded: {verdict.limit} requests per "
            f"{settings.RATE_LIMIT_WINDOW_SECONDS} s. Retry in {verdict.retry_after_s} s."
        ),
        headers=verdict.headers(),
    )


class RateLimit(RateLimiter):
    """A route dependency limiting each caller (as named by `identifier`) within one scope."""

    def __init__(
        self,
        scope: str,
        limit: Callable[[], int],
        identifier: Callable[[Request], Awaitable[str]],
        callback: Callable[[Request, Response], Awaitable[None]] = too_many_requests,
        buckets: KeyedBuckets | None = None,
    ) -> None:
        self.scope = scope
        self._limit = limit
        # Two limits of one scope pass the same buckets, so they share a budget in memory too
        # (in Redis the shared key `rl:<scope>:<id>` already does).
        self.buckets = buckets or KeyedBuckets(self.rate)
        super().__init__(limiter=Limiter(self.buckets), identifier=identifier, callback=callback)

    def rate(self) -> Rate:
        """The current rate (read from settings on every call)."""
        return Rate(max(1, self._limit()), Duration.SECOND * settings.RATE_LIMIT_WINDOW_SECONDS)

    async def __call__(self, request: Request, response: Response) -> None:
        if not settings.RATE_LIMIT_ENABLED or self._limit() <= 0:
            return
        key = f"rl:{self.scope}:{await self.identifier(request)}"
        try:
            verdict = await self.buckets.acquire(key)
        except (RedisError, OSError) as exc:
            _BackendHealth.failed(self.scope, exc)
            if settings.RATE_LIMIT_FAIL_OPEN:
                return
            record_rate_limit_rejection(self.scope, "redis_unavailable")
            raise HTTPException(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                detail="Rate limiting is temporarily unavailable; please retry shortly.",
                headers={"Retry-After": "5"},
            ) from exc
        _BackendHealth.ok()
        request.state.rate_limit = verdict
        response.headers.update(verdict.headers())
        if not verdict.allowed:
            record_rate_limit_rejection(self.scope, "limit")
            await self.callback(request, response)


class RateLimitHeadersMiddleware:
    """Adds a limited request's `X-RateLimit-*` headers to whatever response it gets.

    FastAPI copies headers set on the injected `Response` only onto responses the endpoint
    returns as data, not onto error responses or the agent's event stream; this pure ASGI
    middleware reads the verdict the dependency left in the request state instead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            verdict = state.get("rate_limit")
            if message["type"] == "http.response.start" and isinstance(verdict, RateLimitVerdict):
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name.lower().encode(), value.encode())
                    for name, value in verdict.headers().items()
                    if name.lower().encode() not in present
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def user_identifier(request: Request) -> str:
    """The JWT subject (401/403 like the route's own auth when the token is missing or bad)."""
    token = await reusable_oauth2(request)
    if not token:
        raise CREDENTIALS_ERROR
    return f"user:{user_id_from_token(token)}"


async def resolved_user_identifier(request: Request) -> str:
    """The user `CurrentUserOrApiKey` resolved (bearer JWT or X-Api-Key) for this request."""
    user_id = getattr(request.state, "user_id", None)
    if user_id is None:
        # Only reachable when a route names the limiter without CurrentUserOrApiKey.
        raise CREDENTIALS_ERROR
    return f"user:{user_id}"


async def ip_identifier(request: Request) -> str:
    """The client IP (X-Forwarded-For only from TRUSTED_PROXIES)."""
    return f"ip:{client_ip(request)}"


def _agent_limit() -> int:
    return settings.RATE_LIMIT_PER_MINUTE


def _auth_limit() -> int:
    return settings.AUTH_RATE_LIMIT_PER_MINUTE


# Per user: agent runs (run + stream share one bucket) and evaluations.
agent_rate_limit = RateLimit("agent", _agent_limit, user_identifier)
# The same per-user agent budget for callers authenticated by JWT or API key (Agent Protocol).
_agent_protocol_limit = RateLimit(
    "agent", _agent_limit, resolved_user_identifier, buckets=agent_rate_limit.buckets
)


class RateLimitedError(Exception):
    """A caller outside a route (the MCP endpoint) went over its per-user agent budget."""


async def acquire_agent_run(user_id: uuid.UUID) -> None:
    """`agent_rate_limit` for callers outside a route: the same per-user bucket and Redis policy;
    RateLimitedError with a message fit for the caller when over the budget."""
    if not settings.RATE_LIMIT_ENABLED or _agent_limit() <= 0:
        return
    try:
        verdict = await agent_rate_limit.buckets.acquire(f"rl:agent:user:{user_id}")
    except (RedisError, OSError) as exc:
        _BackendHealth.failed("agent", exc)
        if settings.RATE_LIMIT_FAIL_OPEN:
            return
        record_rate_limit_rejection("agent", "redis_unavailable")
        raise RateLimitedError("Rate limiting is temporarily unavailable; retry shortly.") from exc
    if not verdict.allowed:
        record_rate_limit_rejection("agent", "limit")
        raise RateLimitedError(
            f"Rate limit exceeded: {verdict.limit} runs per {settings.RATE_LIMIT_WINDOW_SECONDS} s. "
            f"Retry in {verdict.retry_after_s} s."
        )


async def agent_protocol_rate_limit(
    request: Request, response: Response, _user: CurrentUserOrApiKey
) -> None:
    """`agent_rate_limit` for routes that accept an API key, keyed by the user it resolved to.

    Depending on CurrentUserOrApiKey makes the user resolve first wherever the limiter is listed
    (route `dependencies=` run before parameters); FastAPI caches it, so a route that also takes
    `CurrentUserOrApiKey` resolves the key once. Bad credentials are refused before counting.
    """
    await _agent_protocol_limit(request, response)


evaluation_rate_limit = RateLimit("evaluation", _agent_limit, user_identifier)
# Per client IP, stricter: each auth action has its own bucket.
login_rate_limit = RateLimit("login", _auth_limit, ip_identifier)
signup_rate_limit = RateLimit("signup", _auth_limit, ip_identifier)
password_rate_limit = RateLimit("password", _auth_limit, ip_identifier)
# Per user: data exports read everything the user owns, so they get the stricter limit.
export_rate_limit = RateLimit("export", _auth_limit, user_identifier)

ALL_RATE_LIMITS = (
    agent_rate_limit,
    evaluation_rate_limit,
    login_rate_limit,
    signup_rate_limit,
    password_rate_limit,
    export_rate_limit,
)
