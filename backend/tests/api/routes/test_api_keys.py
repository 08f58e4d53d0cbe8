"""Personal API keys: create/list/revoke through the API, and `CurrentUserOrApiKey` using them."""

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, update
from sqlmodel import col, select

from app.core.config import settings
from app.core.db import SessionMaker, engine
from app.models import ApiKey, User
from app.services.auth.session_cache import session_cache
from tests.support.key_app import WHOAMI, key_client
from tests.utils import API, create_user_and_login

KEYS = f"{API}/api-keys"


@pytest.fixture
async def keys(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the test-only app whose route takes a JWT or an API key."""
    async for http in key_client():
        yield http


async def create_key(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> Any:
    body.setdefault("name", "laptop")
    response = await client.post(KEYS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def stored(key_id: str) -> ApiKey | None:
    async with SessionMaker() as session:
        return (
            await session.exec(select(ApiKey).where(col(ApiKey.id) == uuid.UUID(key_id)))
        ).first()


async def set_key_column(key_id: str, **values: Any) -> None:
    async with SessionMaker() as session:
        await session.exec(
            update(ApiKey).where(col(ApiKey.id) == uuid.UUID(key_id)).values(**values)
        )  # type: ignore[call-overload]
        await session.commit()


def with_key(key: str) -> dict[str, str]:
    return {"X-Api-Key": key}


async def test_create_list_and_the_key_is_shown_once(client, normal_user_token_headers) -> None:
    created = await create_key(client, normal_user_token_headers, name="ci", expires_in_days=30)
    key = created["key"]
    assert key.startswith("fsk_") and len(key) >= 40
    assert created["prefix"] == key[:12]
    assert created["name"] == "ci"
    assert created["revoked_at"] is None and created["last_used_at"] is None
    expires = datetime.fromisoformat(created["expires_at"])
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)

    listed = await client.get(KEYS, headers=normal_user_token_headers)
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 1
    assert [k["id"] for k in body["data"]] == [created["id"]]
    assert "key" not in body["data"][0] and "key_hash" not in body["data"][0]
    assert key not in listed.text
    assert key[12:] not in listed.text


async def test_the_hash_is_stored_not_the_key(client, normal_user_token_headers) -> None:
    created = await create_key(client, normal_user_token_headers)
    row = await stored(created["id"])
    assert row is not None
    assert row.key_hash == hashlib.sha256(created["key"].encode()).hexdigest()
    assert created["key"] not in row.model_dump_json()


async def test_a_key_authenticates_as_its_owner(client, keys) -> None:
    headers, user = await create_user_and_login(client)
    key = (await create_key(client, headers))["key"]
    response = await keys.get(WHOAMI, headers=with_key(key))
    assert response.status_code == 200, response.text
    assert response.json() == {"id": str(user.id), "email": user.email}


async def test_the_bearer_token_still_works_and_nothing_is_refused(client, keys) -> None:
    headers, user = await create_user_and_login(client)
    assert (await keys.get(WHOAMI, headers=headers)).json()["id"] == str(user.id)
    missing = await keys.get(WHOAMI)
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Not authenticated", "code": "not_authenticated"}
    bad = await keys.get(WHOAMI, headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401
    assert bad.json()["code"] == "not_authenticated"


async def test_a_bearer_token_of_an_ended_session_is_refused(client, keys) -> None:
    headers, _ = await create_user_and_login(client)
    assert (await client.post(f"{API}/logout", headers=headers)).status_code == 200
    refused = await keys.get(WHOAMI, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Could not validate credentials"


@pytest.mark.parametrize(
    "key", [b"fsk_not-a-key", b"not-even-ours", b"fsk_" + b"a" * 500, "fsk_\u00e9".encode()]
)
async def test_an_unknown_key_is_refused(keys, key: bytes) -> None:
    response = await keys.get(WHOAMI, headers={"X-Api-Key": key})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired API key", "code": "invalid_api_key"}


async def test_a_bad_key_is_refused_even_with_a_good_bearer_token(client, keys) -> None:
    headers, _ = await create_user_and_login(client)
    response = await keys.get(WHOAMI, headers={**headers, "X-Api-Key": "fsk_wrong"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


async def test_a_revoked_key_is_refused(client, keys, normal_user_token_headers) -> None:
    created = await create_key(client, normal_user_token_headers)
    assert (await keys.get(WHOAMI, headers=with_key(created["key"]))).status_code == 200

    revoked = await client.delete(f"{KEYS}/{created['id']}", headers=normal_user_token_headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert "key" not in revoked.json()

    refused = await keys.get(WHOAMI, headers=with_key(created["key"]))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Invalid or expired API key"
    # Still listed, as revoked; revoking again keeps the first revocation time.
    listed = (await client.get(KEYS, headers=normal_user_token_headers)).json()["data"]
    assert listed[0]["revoked_at"] == revoked.json()["revoked_at"]
    again = await client.delete(f"{KEYS}/{created['id']}", headers=normal_user_token_headers)
    assert again.status_code == 200
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


async def test_an_expired_key_is_refused(client, keys, normal_user_token_headers) -> None:
    created = await create_key(client, normal_user_token_headers, expires_in_days=1)
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    await set_key_column(created["id"], expires_at=expires)  # (a day is too long to wait)
    # Used (and so remembered by the auth cache) before it expires, refused once it has.
    assert (await keys.get(WHOAMI, headers=with_key(created["key"]))).status_code == 200
    assert (await keys.get(WHOAMI, headers=with_key(created["key"]))).status_code == 200
    await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
    refused = await keys.get(WHOAMI, headers=with_key(created["key"]))
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_api_key"


async def test_a_key_in_use_costs_no_query_and_changes_apply_at_once(
    client, keys, superuser_token_headers
) -> None:
    """Like a bearer token's session, a verified key is remembered for AUTH_CACHE_SECONDS;
    revoking it, or deactivating or deleting its owner, takes effect on the next request."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM api_key" in statement or 'FROM "user"' in statement:
            seen.append(statement)

    headers, user = await create_user_and_login(client)
    first, second = await create_key(client, headers), await create_key(client, headers)
    for created in (first, second):
        assert (await keys.get(WHOAMI, headers=with_key(created["key"]))).status_code == 200
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        for created in (first, second):
            answer = await keys.get(WHOAMI, headers=with_key(created["key"]))
            assert answer.status_code == 200 and answer.json()["id"] == str(user.id)
        assert seen == []
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    assert (await client.delete(f"{KEYS}/{first['id']}", headers=headers)).status_code == 200
    assert (await keys.get(WHOAMI, headers=with_key(first["key"]))).status_code == 401
    assert (await keys.get(WHOAMI, headers=with_key(second["key"]))).status_code == 200
    deactivated = await client.patch(
        f"{API}/users/{user.id}", headers=superuser_token_headers, json={"is_active": False}
    )
    assert deactivated.status_code == 200
    assert (await keys.get(WHOAMI, headers=with_key(second["key"]))).status_code == 400


async def test_an_explicit_expiry_is_kept(client, normal_user_token_headers) -> None:
    when = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    created = await create_key(client, normal_user_token_headers, expires_at=when.isoformat())
    assert datetime.fromisoformat(created["expires_at"]) == when


async def test_deleting_the_account_removes_its_keys(client, keys) -> None:
    headers, _ = await create_user_and_login(client)
    created = await create_key(client, headers)
    assert (await keys.get(WHOAMI, headers=with_key(created["key"]))).status_code == 200
    deleted = await client.delete(f"{API}/users/me", headers=headers)
    assert deleted.status_code == 200, deleted.text
    assert await stored(created["id"]) is None
    refused = await keys.get(WHOAMI, headers=with_key(created["key"]))
    assert refused.status_code == 401


async def test_a_key_of_an_inactive_user_is_refused(client, keys) -> None:
    headers, user = await create_user_and_login(client)
    created = await create_key(client, headers)
    async with SessionMaker() as session:
        await session.exec(update(User).where(col(User.id) == user.id).values(is_active=False))  # type: ignore[call-overload]
        await session.commit()
    response = await keys.get(WHOAMI, headers=with_key(created["key"]))
    assert response.status_code == 400
    assert response.json()["detail"] == "Inactive user"


async def test_another_users_key_is_not_found(client, keys) -> None:
    headers_a, _ = await create_user_and_login(client)
    headers_b, _ = await create_user_and_login(client)
    created = await create_key(client, headers_a)
    response = await client.delete(f"{KEYS}/{created['id']}", headers=headers_b)
    assert response.status_code == 404
    assert response.json() == {"detail": "API key not found", "code": "not_found"}
    assert (await client.get(KEYS, headers=headers_b)).json() == {"data": [], "count": 0}
    # Untouched: still live for its owner.
    assert (await keys.get(WHOAMI, headers=with_key(created["key"]))).status_code == 200
    unknown = await client.delete(f"{KEYS}/{'0' * 32}", headers=headers_a)
    assert unknown.status_code == 404
    malformed = await client.delete(f"{KEYS}/not-a-uuid", headers=headers_a)
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["path", "id"]


async def test_a_key_cannot_manage_keys(client, normal_user_token_headers) -> None:
    created = await create_key(client, normal_user_token_headers)
    key_only = with_key(created["key"])
    for response in (
        await client.get(KEYS, headers=key_only),
        await client.post(KEYS, json={"name": "more"}, headers=key_only),
        await client.delete(f"{KEYS}/{created['id']}", headers=key_only),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    row = await stored(created["id"])
    assert row is not None and row.revoked_at is None
    count = (await client.get(KEYS, headers=normal_user_token_headers)).json()["count"]
    assert count == 1


async def test_last_used_at_is_written_at_most_once_a_minute(
    client, keys, normal_user_token_headers
) -> None:
    created = await create_key(client, normal_user_token_headers)
    assert (await keys.get(WHOAMI, headers=with_key(created["key"]))).status_code == 200
    row = await stored(created["id"])
    assert row is not None and row.last_used_at is not None
    first = row.last_used_at
    assert datetime.now(UTC) - first < timedelta(seconds=30)

    assert (await keys.get(WHOAMI, headers=with_key(created["key"]))).status_code == 200
    row = await stored(created["id"])
    assert row is not None and row.last_used_at == first

    earlier = first - timedelta(minutes=2)
    await set_key_column(created["id"], last_used_at=earlier)
    session_cache.forget(None)  # as once the auth cache's entry has lapsed (AUTH_CACHE_SECONDS)
    assert (await keys.get(WHOAMI, headers=with_key(created["key"]))).status_code == 200
    row = await stored(created["id"])
    assert row is not None and row.last_used_at is not None and row.last_used_at > first
    listed = (await client.get(KEYS, headers=normal_user_token_headers)).json()["data"]
    assert datetime.fromisoformat(listed[0]["last_used_at"]) == row.last_used_at


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "nul\u0000"}, "name"),
        ({}, "name"),
        ({"name": "k", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "k", "expires_in_days": 3651}, "expires_in_days"),
        ({"name": "k", "expires_in_days": 10**30}, "expires_in_days"),
        ({"name": "k", "expires_in_days": "soon"}, "expires_in_days"),
        ({"name": "k", "expires_at": "2001-01-01T00:00:00Z"}, None),
        ({"name": "k", "expires_at": "9999-01-01T00:00:00Z"}, None),
        ({"name": "k", "expires_at": "not a date"}, "expires_at"),
        ({"name": "k", "expires_in_days": 5, "expires_at": "2100-01-01T00:00:00Z"}, None),
    ],
)
async def test_bad_input_is_422(client, normal_user_token_headers, body, field) -> None:
    response = await client.post(KEYS, json=body, headers=normal_user_token_headers)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    assert detail[0]["loc"][0] == "body"
    if field is not None:
        assert detail[0]["loc"][1] == field
    assert (await client.get(KEYS, headers=normal_user_token_headers)).json()["count"] == 0


async def test_live_keys_per_user_are_capped(
    client, normal_user_token_headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "API_KEY_MAX_PER_USER", 2)
    first = await create_key(client, normal_user_token_headers)
    expiring = await create_key(client, normal_user_token_headers)
    refused = await client.post(KEYS, json={"name": "third"}, headers=normal_user_token_headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "api_key_limit"
    assert "revoke one" in refused.json()["detail"]
    # Revoked and expired keys don't count.
    await client.delete(f"{KEYS}/{first['id']}", headers=normal_user_token_headers)
    await create_key(client, normal_user_token_headers)
    await set_key_column(expiring["id"], expires_at=datetime.now(UTC) - timedelta(seconds=1))
    await create_key(client, normal_user_token_headers)
    assert (await client.get(KEYS, headers=normal_user_token_headers)).json()["count"] == 4


async def test_a_key_is_documented_as_a_security_scheme(keys) -> None:
    schema = (await keys.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": schemes["APIKeyHeader"]["description"],
    }
    assert schemes["OAuth2PasswordBearer"]["type"] == "oauth2"
    security = schema["paths"][WHOAMI]["get"]["security"]
    assert {"APIKeyHeader": []} in security and {"OAuth2PasswordBearer": []} in security
