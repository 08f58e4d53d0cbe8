"""Circuit breakers: the state machine in this process and in a real Redis, and Redis down."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from app.core.circuit_breaker import (
    BreakerPolicy,
    BreakerState,
    CircuitBreakers,
    LocalBreakers,
)
from tests.support.redis import RedisServer, start_redis

POLICY = BreakerPolicy(
    failure_threshold=3, failure_rate=0.5, min_calls=6, window_s=60, cooldown_s=0.3
)


@pytest.fixture(scope="module")
def breaker_redis() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.close()


@pytest.fixture
async def redis_client(breaker_redis: RedisServer) -> AsyncIterator[Redis]:
    if not breaker_redis.running():
        breaker_redis.start()
    client = Redis.from_url(breaker_redis.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(params=["local", "redis"])
def breakers(request: pytest.FixtureRequest) -> CircuitBreakers:
    if request.param == "local":
        return CircuitBreakers(POLICY)
    return CircuitBreakers(POLICY, request.getfixturevalue("redis_client"))


async def fail(breakers: CircuitBreakers, name: str, times: int) -> BreakerState:
    state = BreakerState.CLOSED
    for _ in range(times):
        permit = await breakers.permit(name)
        assert permit.allowed
        state = await breakers.record(name, False, permit.probe)
    return state


async def test_opens_after_failures_in_a_row_and_refuses(breakers: CircuitBreakers) -> None:
    assert await fail(breakers, "m", 2) is BreakerState.CLOSED
    assert await breakers.record("m", True) is BreakerState.CLOSED  # a success resets the run
    assert await fail(breakers, "m", 2) is BreakerState.CLOSED
    assert await fail(breakers, "m", 1) is BreakerState.OPEN
    permit = await breakers.permit("m")
    assert (permit.allowed, permit.state) == (False, BreakerState.OPEN)
    assert (await breakers.permit("other")).allowed  # per name


async def test_opens_on_the_failure_rate_of_the_window(breakers: CircuitBreakers) -> None:
    for ok in (True, False, True, False, True):  # never 3 in a row; 2 of 5 < min_calls
        permit = await breakers.permit("r")
        assert await breakers.record("r", ok, permit.probe) is BreakerState.CLOSED
    permit = await breakers.permit("r")
    # 6 calls, 3 failures: 50 % >= the rate
    assert await breakers.record("r", False, permit.probe) is BreakerState.OPEN


async def test_half_open_lets_one_probe_through_and_its_success_closes(
    breakers: CircuitBreakers,
) -> None:
    await fail(breakers, "p", 3)
    await asyncio.sleep(POLICY.cooldown_s + 0.05)
    probe = await breakers.permit("p")
    assert (probe.allowed, probe.probe, probe.state) == (True, True, BreakerState.HALF_OPEN)
    other = await breakers.permit("p")
    assert not other.allowed  # one probe at a time
    assert await breakers.record("p", True, probe=True) is BreakerState.CLOSED
    assert (await breakers.permit("p")).allowed


async def test_a_failed_probe_opens_it_again(breakers: CircuitBreakers) -> None:
    await fail(breakers, "q", 3)
    await asyncio.sleep(POLICY.cooldown_s + 0.05)
    probe = await breakers.permit("q")
    assert probe.probe
    assert await breakers.record("q", False, probe=True) is BreakerState.OPEN
    assert not (await breakers.permit("q")).allowed  # a fresh cool-down


async def test_two_processes_share_one_breaker_through_redis(redis_client: Redis) -> None:
    a, b = CircuitBreakers(POLICY, redis_client), CircuitBreakers(POLICY, redis_client)
    await fail(a, "shared", 2)
    await fail(b, "shared", 1)  # the third failure in a row, counted across both
    assert not (await a.permit("shared")).allowed
    assert not (await b.permit("shared")).allowed


async def test_with_redis_down_each_keeps_its_own(breaker_redis: RedisServer) -> None:
    breaker_redis.stop()
    try:
        client = Redis.from_url(breaker_redis.url, socket_timeout=0.3, socket_connect_timeout=0.3)
        a, b = CircuitBreakers(POLICY, client), CircuitBreakers(POLICY, client)
        assert await fail(a, "down", 3) is BreakerState.OPEN
        assert not (await a.permit("down")).allowed
        assert (await b.permit("down")).allowed  # b never saw a's failures
        assert a.local.state("down") is BreakerState.OPEN
        await client.aclose()
    finally:
        breaker_redis.start()


def test_local_breaker_clock() -> None:
    local = LocalBreakers(POLICY)
    for t in range(3):
        local.record("c", False, False, now=float(t))
    assert not local.permit("c", now=2.1).allowed
    assert local.permit("c", now=2.01 + POLICY.cooldown_s).probe
    # A probe that never reports back frees its slot after probe_timeout_s.
    assert not local.permit("c", now=3.0).allowed
    assert local.permit("c", now=3.0 + POLICY.probe_timeout_s).probe
