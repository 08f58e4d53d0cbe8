"""The Agent Protocol limit: one per-user agent budget whether the caller sent a JWT or a key."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.core.redis import get_redis
from tests.support.key_app import WHOAMI, key_client
from tests.utils import API, create_user_and_login


@pytest.fixture
async def keys(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the test-only app whose route takes a JWT or an API key, agent-limited."""
    async for http in key_client():
        yield http


async def new_key(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    response = await client.post(f"{API}/api-keys", json={"name": "sdk"}, headers=headers)
    assert response.status_code == 201, response.text
    return {"X-Api-Key": response.json()["key"]}


async def run(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)


async def test_a_key_caller_shares_the_users_agent_budget_in_redis(
    client, keys, redis_limits
) -> None:
    headers, user = await create_user_and_login(client)
    key = await new_key(client, headers)
    other_headers, _ = await create_user_and_login(client)
    other_key = await new_key(client, other_headers)

    first = await keys.get(WHOAMI, headers=key)
    assert first.status_code == 200, first.text
    assert first.headers["X-RateLimit-Remaining"] == "2"
    for _ in range(2):  # the same budget through the JWT-only agent API
        assert (await run(client, headers)).status_code == 200

    refused = await keys.get(WHOAMI, headers=key)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "Rate limit exceeded" in refused.json()["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    # A bearer token on the same route is the same user: refused too.
    assert (await keys.get(WHOAMI, headers=headers)).status_code == 429
    assert (await run(client, headers)).status_code == 429

    redis = get_redis()
    assert redis is not None
    assert await redis.zcard(f"rl:agent:user:{user.id}") == 3
    # Another user's key has a budget of its own.
    assert (await keys.get(WHOAMI, headers=other_key)).status_code == 200


async def test_the_budget_is_shared_in_memory_without_redis(client, keys, limits_on) -> None:
    assert get_redis() is None
    headers, _ = await create_user_and_login(client)
    key = await new_key(client, headers)
    for _ in range(3):
        assert (await run(client, headers)).status_code == 200
    refused = await keys.get(WHOAMI, headers=key)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


async def test_a_bad_key_is_refused_before_counting(client, keys, redis_limits) -> None:
    refused = await keys.get(WHOAMI, headers={"X-Api-Key": "fsk_nope"})
    assert refused.status_code == 401
    assert (await keys.get(WHOAMI)).status_code == 401
    redis = get_redis()
    assert redis is not None
    assert await redis.keys("rl:agent:*") == []
