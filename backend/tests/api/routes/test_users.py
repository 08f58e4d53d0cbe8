"""Users: signup, /users/me, own password, superuser administration (mirrors the anchor's tests)."""

import logging
import uuid

import httpx
import pytest

from app.core.config import settings
from tests.utils import (
    API,
    create_item,
    create_user,
    create_user_and_login,
    login_headers,
    random_email,
    random_lower_string,
)

USERS = f"{API}/users"


async def can_login(client: httpx.AsyncClient, email: str, password: str) -> bool:
    """True when the credentials get a token."""
    response = await client.post(
        f"{API}/login/access-token", data={"username": email, "password": password}
    )
    return response.status_code == 200


def assert_detail(response: httpx.Response, status: int, detail: str | None = None) -> None:
    """The status, and a JSON `detail` (equal to `detail` when given)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert "detail" in body
    if status != 422:
        assert isinstance(body["detail"], str) and isinstance(body["code"], str)
    if detail is not None:
        assert body["detail"] == detail


# --- signup -----------------------------------------------------------------------------------


async def test_register_user(client: httpx.AsyncClient) -> None:
    email, password = random_email(), random_lower_string(16)
    response = await client.post(
        f"{USERS}/signup", json={"email": email, "password": password, "full_name": "New User"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == email
    assert body["full_name"] == "New User"
    assert body["is_superuser"] is False
    assert body["is_active"] is True
    assert "password" not in body and "hashed_password" not in body
    assert await can_login(client, email, password)


async def test_register_cannot_make_a_superuser(client: httpx.AsyncClient) -> None:
    email, password = random_email(), random_lower_string(16)
    response = await client.post(
        f"{USERS}/signup", json={"email": email, "password": password, "is_superuser": True}
    )
    assert response.status_code == 200
    assert response.json()["is_superuser"] is False
    headers = await login_headers(client, email, password)
    assert_detail(await client.get(f"{USERS}/", headers=headers), 403)


async def test_register_user_already_exists(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    for email in (user.email, user.email.upper()):
        response = await client.post(
            f"{USERS}/signup", json={"email": email, "password": random_lower_string(16)}
        )
        assert_detail(response, 409, "The user with this email already exists")


async def test_register_disabled(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "USERS_OPEN_REGISTRATION", False)
    email = random_email()
    response = await client.post(
        f"{USERS}/signup", json={"email": email, "password": random_lower_string(16)}
    )
    assert_detail(response, 403, "Open user registration is disabled")
    assert not await can_login(client, email, "irrelevant-password")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"email": "x@example.com", "password": "short"}, "password", id="short"),
        pytest.param({"email": "not-an-email", "password": "long-enough-1"}, "email", id="email"),
        pytest.param({"email": "x@example.com", "password": "p" * 129}, "password", id="long"),
        pytest.param({"password": "long-enough-1"}, "email", id="missing-email"),
    ],
)
async def test_register_invalid_input_is_422(
    client: httpx.AsyncClient, payload: dict, field: str
) -> None:
    response = await client.post(f"{USERS}/signup", json=payload)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


# --- /users/me --------------------------------------------------------------------------------


async def test_read_user_me(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    response = await client.get(f"{USERS}/me", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(user.id)
    assert body["email"] == user.email
    assert body["is_superuser"] is False
    assert body["created_at"]
    assert "hashed_password" not in body


async def test_read_user_me_superuser(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    response = await client.get(f"{USERS}/me", headers=superuser_token_headers)
    assert response.status_code == 200
    assert response.json()["email"] == settings.FIRST_SUPERUSER
    assert response.json()["is_superuser"] is True


async def test_update_user_me(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    new_email = random_email()
    response = await client.patch(
        f"{USERS}/me", headers=headers, json={"full_name": "Updated Name", "email": new_email}
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Updated Name"
    assert response.json()["email"] == new_email
    again = await client.get(f"{USERS}/me", headers=headers)
    assert again.json()["email"] == new_email
    assert again.json()["id"] == str(user.id)


async def test_update_user_me_email_exists(client: httpx.AsyncClient) -> None:
    headers, _ = await create_user_and_login(client)
    other, _ = await create_user()
    response = await client.patch(f"{USERS}/me", headers=headers, json={"email": other.email})
    assert_detail(response, 409, "The user with this email already exists")


async def test_update_user_me_keeps_own_email(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    response = await client.patch(f"{USERS}/me", headers=headers, json={"email": user.email})
    assert response.status_code == 200


async def test_update_user_me_cannot_escalate(client: httpx.AsyncClient) -> None:
    headers, _ = await create_user_and_login(client)
    response = await client.patch(
        f"{USERS}/me", headers=headers, json={"is_superuser": True, "is_active": False}
    )
    assert response.status_code == 200
    assert response.json()["is_superuser"] is False
    assert response.json()["is_active"] is True


async def test_update_user_me_null_email_is_422(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    response = await client.patch(f"{USERS}/me", headers=headers, json={"email": None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "email"]
    me = await client.get(f"{USERS}/me", headers=headers)
    assert me.json()["email"] == user.email


async def test_update_user_me_clears_full_name(client: httpx.AsyncClient) -> None:
    headers, _ = await create_user_and_login(client)
    await client.patch(f"{USERS}/me", headers=headers, json={"full_name": "Someone"})
    response = await client.patch(f"{USERS}/me", headers=headers, json={"full_name": None})
    assert response.status_code == 200
    assert response.json()["full_name"] is None


async def test_delete_user_me(client: httpx.AsyncClient) -> None:
    user, password = await create_user()
    headers = await login_headers(client, user.email, password)
    item = await create_item(user.id)
    response = await client.delete(f"{USERS}/me", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"message": "User deleted successfully"}
    assert not await can_login(client, user.email, password)
    assert_detail(await client.get(f"{USERS}/me", headers=headers), 404, "User not found")
    # The user's items went with them (ON DELETE CASCADE).
    from app.core.db import SessionMaker
    from app.models import Item

    async with SessionMaker() as session:
        assert await session.get(Item, item.id) is None


async def test_delete_user_me_as_superuser_is_403(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    response = await client.delete(f"{USERS}/me", headers=superuser_token_headers)
    assert_detail(response, 403, "Super users are not allowed to delete themselves")
    assert (await client.get(f"{USERS}/me", headers=superuser_token_headers)).status_code == 200


# --- /users/me/password -----------------------------------------------------------------------


async def test_update_password_me(client: httpx.AsyncClient) -> None:
    user, password = await create_user()
    headers = await login_headers(client, user.email, password)
    new_password = random_lower_string(16)
    response = await client.patch(
        f"{USERS}/me/password",
        headers=headers,
        json={"current_password": password, "new_password": new_password},
    )
    assert response.status_code == 200
    assert response.json() == {"message": "Password updated successfully"}
    assert await can_login(client, user.email, new_password)
    assert not await can_login(client, user.email, password)


async def test_update_password_me_incorrect_password(client: httpx.AsyncClient) -> None:
    user, password = await create_user()
    headers = await login_headers(client, user.email, password)
    response = await client.patch(
        f"{USERS}/me/password",
        headers=headers,
        json={"current_password": "not-the-password", "new_password": random_lower_string(16)},
    )
    assert_detail(response, 400, "Incorrect password")
    assert await can_login(client, user.email, password)


async def test_update_password_me_same_password(client: httpx.AsyncClient) -> None:
    user, password = await create_user()
    headers = await login_headers(client, user.email, password)
    response = await client.patch(
        f"{USERS}/me/password",
        headers=headers,
        json={"current_password": password, "new_password": password},
    )
    assert_detail(response, 400, "New password cannot be the same as the current one")


async def test_update_password_me_too_short_is_422(client: httpx.AsyncClient) -> None:
    user, password = await create_user()
    headers = await login_headers(client, user.email, password)
    response = await client.patch(
        f"{USERS}/me/password",
        headers=headers,
        json={"current_password": password, "new_password": "short"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "new_password"]


# --- superuser administration -----------------------------------------------------------------


async def test_create_user_as_superuser(
    client: httpx.AsyncClient,
    superuser_token_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.core.email")
    email, password = random_email(), random_lower_string(16)
    response = await client.post(
        f"{USERS}/",
        headers=superuser_token_headers,
        json={"email": email, "password": password, "is_superuser": True, "full_name": "Ops"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == email
    assert body["is_superuser"] is True
    assert await can_login(client, email, password)
    # SMTP isn't configured in tests: the welcome email is written to the log.
    welcome = [
        r.msg
        for r in caplog.records
        if isinstance(r.msg, dict) and r.msg.get("event") == "email.logged" and r.msg["to"] == email
    ]
    assert len(welcome) == 1


async def test_create_user_existing_email(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    user, _ = await create_user()
    response = await client.post(
        f"{USERS}/",
        headers=superuser_token_headers,
        json={"email": user.email, "password": random_lower_string(16)},
    )
    assert_detail(response, 409, "The user with this email already exists")


async def test_read_users_pagination(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    created = [(await create_user())[0] for _ in range(3)]
    response = await client.get(f"{USERS}/", headers=superuser_token_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4  # three users and the first superuser
    emails = [u["email"] for u in body["data"]]
    assert settings.FIRST_SUPERUSER in emails
    assert {u.email for u in created} <= set(emails)

    page = await client.get(f"{USERS}/?skip=1&limit=2", headers=superuser_token_headers)
    assert page.status_code == 200
    assert page.json()["count"] == 4
    assert [u["email"] for u in page.json()["data"]] == emails[1:3]
    past_the_end = await client.get(f"{USERS}/?skip=10", headers=superuser_token_headers)
    assert past_the_end.json() == {"data": [], "count": 4}


@pytest.mark.parametrize(
    "query", ["skip=-1", "limit=0", "limit=1001", "skip=abc", "skip=99999999999999999999"]
)
async def test_read_users_bad_pagination_is_422(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str], query: str
) -> None:
    response = await client.get(f"{USERS}/?{query}", headers=superuser_token_headers)
    assert response.status_code == 422
    assert response.json()["detail"]


async def test_read_user_by_id_as_superuser(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    user, _ = await create_user()
    response = await client.get(f"{USERS}/{user.id}", headers=superuser_token_headers)
    assert response.status_code == 200
    assert response.json()["email"] == user.email


async def test_read_own_user_by_id(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    response = await client.get(f"{USERS}/{user.id}", headers=headers)
    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)


async def test_read_another_user_by_id_as_normal_user_is_403(client: httpx.AsyncClient) -> None:
    headers, _ = await create_user_and_login(client)
    other, _ = await create_user()
    response = await client.get(f"{USERS}/{other.id}", headers=headers)
    assert_detail(response, 403, "The user doesn't have enough privileges")
    assert other.email not in response.text


async def test_read_missing_user_as_superuser_is_404(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    response = await client.get(f"{USERS}/{uuid.uuid4()}", headers=superuser_token_headers)
    assert_detail(response, 404, "User not found")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_malformed_user_id_is_422(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str], method: str
) -> None:
    response = await client.request(
        method, f"{USERS}/not-a-uuid", headers=superuser_token_headers, json={}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "user_id"]


async def test_update_user_as_superuser(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    user, old_password = await create_user()
    new_password = random_lower_string(16)
    response = await client.patch(
        f"{USERS}/{user.id}",
        headers=superuser_token_headers,
        json={"full_name": "Renamed", "password": new_password},
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Renamed"
    assert await can_login(client, user.email, new_password)
    assert not await can_login(client, user.email, old_password)


async def test_update_missing_user_is_404(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    response = await client.patch(
        f"{USERS}/{uuid.uuid4()}", headers=superuser_token_headers, json={"full_name": "x"}
    )
    assert_detail(response, 404, "The user with this id does not exist")


async def test_update_user_email_exists_is_409(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    user, _ = await create_user()
    other, _ = await create_user()
    response = await client.patch(
        f"{USERS}/{user.id}", headers=superuser_token_headers, json={"email": other.email}
    )
    assert_detail(response, 409, "The user with this email already exists")


async def test_update_user_null_email_is_422(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    user, _ = await create_user()
    response = await client.patch(
        f"{USERS}/{user.id}", headers=superuser_token_headers, json={"email": None}
    )
    assert response.status_code == 422


async def test_delete_user_as_superuser(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    user, password = await create_user()
    response = await client.delete(f"{USERS}/{user.id}", headers=superuser_token_headers)
    assert response.status_code == 200
    assert response.json() == {"message": "User deleted successfully"}
    assert not await can_login(client, user.email, password)
    gone = await client.get(f"{USERS}/{user.id}", headers=superuser_token_headers)
    assert gone.status_code == 404


async def test_delete_missing_user_is_404(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    response = await client.delete(f"{USERS}/{uuid.uuid4()}", headers=superuser_token_headers)
    assert_detail(response, 404, "User not found")


async def test_superuser_cannot_delete_self_by_id(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    me = (await client.get(f"{USERS}/me", headers=superuser_token_headers)).json()
    response = await client.delete(f"{USERS}/{me['id']}", headers=superuser_token_headers)
    assert_detail(response, 403, "Super users are not allowed to delete themselves")


async def test_normal_user_on_superuser_routes_is_403(client: httpx.AsyncClient) -> None:
    headers, me = await create_user_and_login(client)
    other, _ = await create_user()
    attempts = [
        ("GET", f"{USERS}/", None),
        ("POST", f"{USERS}/", {"email": random_email(), "password": random_lower_string(16)}),
        ("PATCH", f"{USERS}/{other.id}", {"full_name": "hijacked"}),
        ("PATCH", f"{USERS}/{me.id}", {"is_superuser": True}),
        ("DELETE", f"{USERS}/{other.id}", None),
    ]
    for method, url, body in attempts:
        response = await client.request(method, url, headers=headers, json=body)
        assert_detail(response, 403, "The user doesn't have enough privileges")
    # Nothing changed.
    from app.core.db import SessionMaker
    from app.models import User

    async with SessionMaker() as session:
        still_there = await session.get(User, other.id)
        assert still_there is not None and still_there.full_name is None
        myself = await session.get(User, me.id)
        assert myself is not None and myself.is_superuser is False
