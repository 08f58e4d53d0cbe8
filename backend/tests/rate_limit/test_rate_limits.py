"""Per-user and per-IP rate limits through the real routes, with buckets in a real redis-server."""

import asyncio

from prometheus_client import REGISTRY

from app.core.config import settings
from app.core.redis import get_redis
from tests.utils import API, create_user_and_login, random_email


def rejections(scope: str, reason: str = "limit") -> float:
    """Current value of rate_limit_rejections_total{scope, reason}."""
    value = REGISTRY.get_sample_value(
        "rate_limit_rejections_total", {"scope": scope, "reason": reason}
    )
    return value or 0.0


async def run(client, headers, message: str = "hello") -> object:
    return await client.post(f"{API}/agent/run", json={"message": message}, headers=headers)


async def login(client, **kwargs):
    return await client.post(
        f"{API}/login/access-token",
        data={"username": "nobody@example.com", "password": "wrong-password"},
        **kwargs,
    )


async def test_agent_limit_is_per_user_with_headers(client, redis_limits) -> None:
    headers_a, user_a = await create_user_and_login(client)
    headers_b, _ = await create_user_and_login(client)
    before = rejections("agent")

    remaining = []
    for _ in range(3):
        response = await run(client, headers_a)
        assert response.status_code == 200, response.text
        assert response.headers["X-RateLimit-Limit"] == "3"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]

    refused = await run(client, headers_a)
    assert refused.status_code == 429
    assert "Rate limit exceeded" in refused.json()["detail"]
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert rejections("agent") == before + 1

    # User B has a bucket of their own.
    response = await run(client, headers_b)
    assert response.status_code == 200, response.text
    assert response.headers["X-RateLimit-Remaining"] == "2"

    # The bucket lives in Redis, keyed by the JWT subject.
    redis = get_redis()
    assert redis is not None
    assert await redis.zcard(f"rl:agent:user:{user_a.id}") == 3


async def test_stream_is_refused_before_streaming_and_shares_the_run_bucket(
    client, redis_limits
) -> None:
    headers, _ = await create_user_and_login(client)
    for _ in range(3):
        assert (await run(client, headers)).status_code == 200
    response = await client.post(
        f"{API}/agent/run/stream", json={"message": "hello"}, headers=headers
    )
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/json")
    assert "Rate limit exceeded" in response.json()["detail"]
    assert "Retry-After" in response.headers


async def test_missing_or_bad_token_is_refused_before_counting(client, redis_limits) -> None:
    assert (await client.post(f"{API}/agent/run", json={"message": "x"})).status_code == 401
    bad = {"Authorization": "Bearer not-a-jwt"}
    assert (await run(client, bad)).status_code == 401
    redis = get_redis()
    assert redis is not None
    assert await redis.keys("rl:agent:*") == []


async def test_window_resets(client, limits_on, redis_limits) -> None:
    limits_on.setattr(settings, "RATE_LIMIT_WINDOW_SECONDS", 2)

    async def reset():  # the cheapest limited route: a bad token is refused without hashing
        return await client.post(
            f"{API}/reset-password/", json={"token": "bad", "new_password": "a-long-password"}
        )

    for _ in range(3):
        assert (await reset()).status_code == 400
    refused = await reset()
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    await asyncio.sleep(2.1)  # one full window: every earlier request has left it
    again = await reset()
    assert again.status_code == 400, again.text
    assert again.headers["X-RateLimit-Remaining"] == "2"


async def test_auth_actions_are_limited_per_ip_in_separate_buckets(client, redis_limits) -> None:
    for _ in range(3):
        assert (await login(client)).status_code == 400
    assert (await login(client)).status_code == 429
    # Signup and password recovery have buckets of their own, limited the same way.
    for _ in range(3):
        response = await client.post(
            f"{API}/users/signup",
            json={"email": random_email(), "password": "a-long-password"},
        )
        assert response.status_code == 200, response.text
    refused = await client.post(
        f"{API}/users/signup", json={"email": random_email(), "password": "a-long-password"}
    )
    assert refused.status_code == 429
    for _ in range(3):
        assert (await client.post(f"{API}/password-recovery/a@example.com")).status_code == 200
    assert (await client.post(f"{API}/password-recovery/a@example.com")).status_code == 429
    reset = await client.post(
        f"{API}/reset-password/", json={"token": "x", "new_password": "a-long-password"}
    )
    assert reset.status_code == 429


async def test_spoofed_forwarded_for_is_ignored_without_trusted_proxy(client, redis_limits) -> None:
    for n in range(3):
        response = await login(client, headers={"X-Forwarded-For": f"198.51.100.{n}"})
        assert response.status_code == 400
    response = await login(client, headers={"X-Forwarded-For": "198.51.100.99"})
    assert response.status_code == 429
    redis = get_redis()
    assert redis is not None
    assert await redis.keys("rl:login:*") == [b"rl:login:ip:127.0.0.1"]


async def test_forwarded_for_is_honoured_from_a_trusted_proxy(
    client, limits_on, redis_limits
) -> None:
    # httpx's ASGI transport connects from 127.0.0.1: make that our proxy.
    limits_on.setattr(settings, "TRUSTED_PROXIES", ["127.0.0.0/8"])
    for _ in range(3):
        response = await login(client, headers={"X-Forwarded-For": "203.0.113.7"})
        assert response.status_code == 400
    # A client prepending its own value doesn't escape: the proxy appended the real one.
    spoofed = await login(client, headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    assert spoofed.status_code == 429
    # Another client behind the same proxy is not throttled.
    other = await login(client, headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 400


async def test_memory_buckets_without_redis(client, limits_on) -> None:
    assert get_redis() is None
    headers_a, _ = await create_user_and_login(client)
    headers_b, _ = await create_user_and_login(client)
    for _ in range(3):
        assert (await run(client, headers_a)).status_code == 200
    refused = await run(client, headers_a)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await run(client, headers_b)).status_code == 200


async def test_limits_are_off_by_default_in_tests(client) -> None:
    assert settings.RATE_LIMIT_ENABLED is False
    for _ in range(15):  # above AUTH_RATE_LIMIT_PER_MINUTE's default of 10
        response = await client.post(
            f"{API}/reset-password/", json={"token": "bad", "new_password": "a-long-password"}
        )
        assert response.status_code == 400
        assert "X-RateLimit-Limit" not in response.headers


async def test_lua_script_is_reloaded_after_script_flush(client, redis_limits) -> None:
    headers, _ = await create_user_and_login(client)
    assert (await run(client, headers)).status_code == 200
    redis = get_redis()
    assert redis is not None
    await redis.script_flush()  # what a Redis restart or failover does to the script cache
    response = await run(client, headers)
    assert response.status_code == 200, response.text
    assert response.headers["X-RateLimit-Remaining"] == "1"


async def test_starting_evaluations_is_limited_per_user(
    client, superuser_token_headers, redis_limits
) -> None:
    invalid = {"source": "db", "judge": "offline", "metrics": ["no-such-metric"]}
    for _ in range(3):
        response = await client.post(
            f"{API}/agent/evaluations", json=invalid, headers=superuser_token_headers
        )
        assert response.status_code == 422, response.text
        assert "X-RateLimit-Remaining" in response.headers
    refused = await client.post(
        f"{API}/agent/evaluations", json=invalid, headers=superuser_token_headers
    )
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    # Its own bucket: the same user's agent runs are not throttled by it.
    assert (await run(client, superuser_token_headers)).status_code == 200


async def test_the_limiter_keeps_one_bucket_per_key(redis_limits) -> None:
    from pyrate_limiter import Duration, Limiter, Rate

    from app.api.rate_limit import RateLimit, ip_identifier

    # Why RateLimit routes keys itself: fastapi-limiter's documented `Limiter(Rate(...))`
    # has one bucket for every key, so "b" is refused because "a" used the limit.
    shared = Limiter(Rate(2, Duration.MINUTE))
    assert [shared.try_acquire(k, blocking=False) for k in "aaab"] == [True, True, False, False]

    keyed = RateLimit("keyed-test", lambda: 2, ip_identifier).limiter
    results = [await keyed.try_acquire_async(k, blocking=False) for k in "aaab"]
    assert results == [True, True, False, True]
    redis = get_redis()
    assert redis is not None
    assert await redis.zcard("a") == 2 and await redis.zcard("b") == 1


async def test_data_exports_are_limited_per_user(client, redis_limits) -> None:
    alice, _ = await create_user_and_login(client)
    bob, _ = await create_user_and_login(client)
    for _ in range(3):
        assert (await client.get(f"{API}/users/me/export", headers=alice)).status_code == 200
    refused = await client.get(f"{API}/users/me/export", headers=alice)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json()["code"] == "rate_limited"
    assert (await client.get(f"{API}/users/me/export", headers=bob)).status_code == 200
