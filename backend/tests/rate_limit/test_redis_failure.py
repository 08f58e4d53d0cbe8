"""Redis taken away mid-test: the configured policy (never a 500), then recovery on restart."""

import pytest
from prometheus_client import REGISTRY

from app.core.config import settings
from tests.utils import API, create_user_and_login


def backend_errors(scope: str, policy: str) -> float:
    """Current value of rate_limit_backend_errors_total{scope, policy}."""
    value = REGISTRY.get_sample_value(
        "rate_limit_backend_errors_total", {"scope": scope, "policy": policy}
    )
    return value or 0.0


async def run(client, headers):
    return await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)


async def health(client) -> tuple[int, dict]:
    response = await client.get(f"{API}/utils/health-check/")
    return response.status_code, response.json()


async def test_health_reports_redis_disabled_without_redis(client) -> None:
    status, body = await health(client)
    assert status == 200
    assert body["checks"]["redis"] == "disabled"
    assert body["status"] == "ok"


@pytest.mark.parametrize("fail_open", [True, False], ids=["fail-open", "fail-closed"])
async def test_redis_outage_policy_and_recovery(client, limits_on, own_redis, fail_open) -> None:
    limits_on.setattr(settings, "RATE_LIMIT_FAIL_OPEN", fail_open)
    headers, _ = await create_user_and_login(client)
    first = await run(client, headers)
    assert first.status_code == 200
    assert first.headers["X-RateLimit-Remaining"] == "2"
    assert await health(client) == (
        200,
        {"status": "ok", "checks": {"database": "ok", "redis": "ok", "mcp": "disabled"}},
    )

    own_redis.stop()
    policy = "open" if fail_open else "closed"
    errors_before = backend_errors("agent", policy)
    for _ in range(4):  # more than the limit: nothing is counted while Redis is away
        response = await run(client, headers)
        if fail_open:
            assert response.status_code == 200, response.text
            assert "X-RateLimit-Remaining" not in response.headers
        else:
            assert response.status_code == 503
            assert response.json()["detail"].startswith("Rate limiting is temporarily unavailable")
            assert response.headers["Retry-After"] == "5"
    assert backend_errors("agent", policy) == errors_before + 4
    status, body = await health(client)
    assert (status, body["status"], body["checks"]["redis"]) == (200, "degraded", "error")

    # Same port; the script cache is empty (NOSCRIPT path). Redis may have saved and reloaded
    # the first request's entry (default save points), but none of the outage requests.
    own_redis.start()
    recovered = await run(client, headers)
    assert recovered.status_code == 200, recovered.text
    remaining = int(recovered.headers["X-RateLimit-Remaining"])
    assert remaining in (1, 2)
    for expected in range(remaining - 1, -1, -1):
        response = await run(client, headers)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Remaining"] == str(expected)
    assert (await run(client, headers)).status_code == 429
    assert (await health(client))[1]["checks"]["redis"] == "ok"
