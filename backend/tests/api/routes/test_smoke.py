"""Smoke test of the harness."""

from tests.utils import API


async def test_health_and_login(client, superuser_token_headers) -> None:
    health = await client.get(f"{API}/utils/health-check/")
    assert health.status_code == 200
    assert health.json()["checks"]["database"] == "ok"
    me = await client.get(f"{API}/users/me", headers=superuser_token_headers)
    assert me.status_code == 200
    assert me.json()["is_superuser"] is True
