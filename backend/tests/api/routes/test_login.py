"""Login, access tokens, password recovery and reset (mirrors the anchor template's test_login)."""

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from app.core import security
from app.core.config import settings
from app.core.email import generate_password_reset_token
from tests.utils import API, create_user, create_user_and_login, random_email, random_lower_string

TOKEN_URL = f"{API}/login/access-token"
RESET_LINK = re.compile(r"reset-password\?token=([\w.-]+)")


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    """POST the OAuth2 password form."""
    return await client.post(TOKEN_URL, data={"username": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    """Authorization headers for a raw token."""
    return {"Authorization": f"Bearer {token}"}


def assert_rejected(response: httpx.Response) -> None:
    """A refused credential: 401/403 with a JSON `detail`, never a 500."""
    assert response.status_code in (401, 403), response.text
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str)


def logged_emails(caplog: pytest.LogCaptureFixture, email_to: str) -> list[dict[str, str]]:
    """Emails written to the log (SMTP isn't configured in tests) for one recipient."""
    found = []
    for record in caplog.records:
        event = record.msg
        if isinstance(event, dict) and event.get("event") == "email.logged":
            if event.get("to") == email_to:
                found.append(event)
    return found


# --- access tokens ----------------------------------------------------------------------------


async def test_get_access_token(client: httpx.AsyncClient) -> None:
    user, password = await create_user()
    response = await login(client, user.email, password)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    claims = jwt.decode(body["access_token"], settings.SECRET_KEY, algorithms=["HS256"])
    assert claims["sub"] == str(user.id)
    lifetime = claims["exp"] - datetime.now(UTC).timestamp()
    expected = settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    assert expected - 60 < lifetime <= expected


async def test_login_email_is_case_insensitive(client: httpx.AsyncClient) -> None:
    user, password = await create_user()
    response = await login(client, user.email.upper(), password)
    assert response.status_code == 200


async def test_get_access_token_incorrect_password(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    response = await login(client, user.email, "incorrect-password")
    assert response.status_code == 400
    assert response.json() == {"detail": "Incorrect email or password", "code": "bad_request"}


async def test_unknown_email_gets_the_same_answer(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    wrong_password = await login(client, user.email, "incorrect-password")
    unknown_email = await login(client, random_email(), "incorrect-password")
    assert unknown_email.status_code == wrong_password.status_code == 400
    assert unknown_email.json() == wrong_password.json()


async def test_login_inactive_user(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    user, password = await create_user()
    deactivate = await client.patch(
        f"{API}/users/{user.id}", headers=superuser_token_headers, json={"is_active": False}
    )
    assert deactivate.status_code == 200
    response = await login(client, user.email, password)
    assert response.status_code == 400
    assert response.json() == {"detail": "Inactive user", "code": "bad_request"}


async def test_login_without_form_fields_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN_URL, data={"username": "someone@example.com"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]


async def test_use_access_token(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    response = await client.post(f"{API}/login/test-token", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == user.email
    assert body["id"] == str(user.id)
    assert "hashed_password" not in body


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/login/test-token")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated", "code": "not_authenticated"}


async def test_tampered_token_is_rejected(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    other, _ = await create_user()
    token = headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    # Swap in another user's id while keeping the original signature.
    claims = jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])
    forged = jwt.encode({**claims, "sub": str(other.id)}, "attacker-key-0123456789abcdef01234")
    forged_payload = forged.split(".")[1]
    response = await client.post(
        f"{API}/login/test-token", headers=bearer(f"{header}.{forged_payload}.{signature}")
    )
    assert_rejected(response)
    # A flipped character in the middle of the signature.
    middle = len(signature) // 2
    flipped = (
        signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
    )
    response = await client.post(
        f"{API}/login/test-token", headers=bearer(f"{header}.{payload}.{flipped}")
    )
    assert_rejected(response)
    # The untouched token still works, so the rejections above are about the tampering.
    ok = await client.post(f"{API}/login/test-token", headers=headers)
    assert ok.status_code == 200
    assert ok.json()["id"] == str(user.id)


async def test_token_signed_with_another_key_is_rejected(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    exp = datetime.now(UTC) + timedelta(minutes=5)
    token = jwt.encode({"sub": str(user.id), "exp": exp}, "another-secret-key-0123456789abcdef")
    assert_rejected(await client.post(f"{API}/login/test-token", headers=bearer(token)))


async def test_expired_token_is_rejected(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    token = security.create_access_token(user.id, expires_delta=timedelta(seconds=-1))
    assert_rejected(await client.get(f"{API}/users/me", headers=bearer(token)))


async def test_alg_none_token_is_rejected(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    exp = datetime.now(UTC) + timedelta(minutes=5)
    token = jwt.encode({"sub": str(user.id), "exp": exp}, key=None, algorithm="none")
    assert token.endswith(".")  # unsigned
    assert_rejected(await client.get(f"{API}/users/me", headers=bearer(token)))


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"sub": "not-a-uuid"}, id="sub-not-uuid"),
        pytest.param({}, id="no-sub"),
        pytest.param({"sub": 12345}, id="sub-not-string"),
    ],
)
async def test_malformed_claims_are_rejected(client: httpx.AsyncClient, claims: dict) -> None:
    exp = datetime.now(UTC) + timedelta(minutes=5)
    token = jwt.encode({**claims, "exp": exp}, settings.SECRET_KEY, algorithm="HS256")
    assert_rejected(await client.get(f"{API}/users/me", headers=bearer(token)))


async def test_token_without_expiry_is_rejected(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    token = jwt.encode({"sub": str(user.id)}, settings.SECRET_KEY, algorithm="HS256")
    assert_rejected(await client.get(f"{API}/users/me", headers=bearer(token)))


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "", "Bearer"])
async def test_garbage_token_is_rejected(client: httpx.AsyncClient, garbage: str) -> None:
    assert_rejected(await client.get(f"{API}/users/me", headers=bearer(garbage)))


async def test_token_of_deleted_user(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    headers, user = await create_user_and_login(client)
    deleted = await client.delete(f"{API}/users/{user.id}", headers=superuser_token_headers)
    assert deleted.status_code == 200
    response = await client.get(f"{API}/users/me", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found", "code": "not_found"}


async def test_token_of_deactivated_user(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    headers, user = await create_user_and_login(client)
    deactivate = await client.patch(
        f"{API}/users/{user.id}", headers=superuser_token_headers, json={"is_active": False}
    )
    assert deactivate.status_code == 200
    response = await client.get(f"{API}/users/me", headers=headers)
    assert response.status_code == 400
    assert response.json() == {"detail": "Inactive user", "code": "bad_request"}


async def test_reset_token_is_not_an_access_token(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    token = generate_password_reset_token(email=user.email)
    assert_rejected(await client.get(f"{API}/users/me", headers=bearer(token)))


# --- password recovery and reset --------------------------------------------------------------


async def test_recovery_email_is_logged_and_resets_the_password(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.core.email")
    user, old_password = await create_user()
    response = await client.post(f"{API}/password-recovery/{user.email}")
    assert response.status_code == 200
    emails = logged_emails(caplog, user.email)
    assert len(emails) == 1
    match = RESET_LINK.search(emails[0]["body"])
    assert match, emails[0]["body"]
    token = match.group(1)

    new_password = random_lower_string(16)
    reset = await client.post(
        f"{API}/reset-password/", json={"token": token, "new_password": new_password}
    )
    assert reset.status_code == 200
    assert reset.json() == {"message": "Password updated successfully"}
    assert (await login(client, user.email, new_password)).status_code == 200
    assert (await login(client, user.email, old_password)).status_code == 400


async def test_recovery_answers_the_same_for_an_unknown_email(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.core.email")
    user, _ = await create_user()
    unknown = random_email()
    known_response = await client.post(f"{API}/password-recovery/{user.email}")
    unknown_response = await client.post(f"{API}/password-recovery/{unknown}")
    assert known_response.status_code == unknown_response.status_code == 200
    assert known_response.json() == unknown_response.json()
    assert len(logged_emails(caplog, user.email)) == 1
    assert logged_emails(caplog, unknown) == []


async def test_reset_password_invalid_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/reset-password/", json={"token": "invalid", "new_password": "a-new-password"}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid or expired token", "code": "bad_request"}


async def test_reset_password_expired_token(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    past = datetime.now(UTC) - timedelta(hours=49)
    token = jwt.encode(
        {
            "sub": user.email,
            "purpose": "password-reset",
            "nbf": past,
            "exp": past + timedelta(hours=48),
        },
        settings.SECRET_KEY,
        algorithm="HS256",
    )
    response = await client.post(
        f"{API}/reset-password/", json={"token": token, "new_password": "a-new-password"}
    )
    assert response.status_code == 400


async def test_access_token_is_not_a_reset_token(client: httpx.AsyncClient) -> None:
    headers, _ = await create_user_and_login(client)
    access_token = headers["Authorization"].removeprefix("Bearer ")
    response = await client.post(
        f"{API}/reset-password/", json={"token": access_token, "new_password": "a-new-password"}
    )
    assert response.status_code == 400


async def test_reset_token_for_a_deleted_user(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    user, _ = await create_user()
    token = generate_password_reset_token(email=user.email)
    deleted = await client.delete(f"{API}/users/{user.id}", headers=superuser_token_headers)
    assert deleted.status_code == 200
    response = await client.post(
        f"{API}/reset-password/", json={"token": token, "new_password": "a-new-password"}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid or expired token", "code": "bad_request"}


async def test_reset_password_for_an_inactive_user(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    user, _ = await create_user()
    await client.patch(
        f"{API}/users/{user.id}", headers=superuser_token_headers, json={"is_active": False}
    )
    token = generate_password_reset_token(email=user.email)
    response = await client.post(
        f"{API}/reset-password/", json={"token": token, "new_password": "a-new-password"}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Inactive user", "code": "bad_request"}


async def test_reset_password_too_short_is_422(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    token = generate_password_reset_token(email=user.email)
    response = await client.post(
        f"{API}/reset-password/", json={"token": token, "new_password": "short"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "new_password"]


async def test_access_tokens_have_unique_subjects(client: httpx.AsyncClient) -> None:
    """Two users get tokens for their own ids (guards against a constant `sub`)."""
    first_headers, first = await create_user_and_login(client)
    second_headers, second = await create_user_and_login(client)
    me_first = (await client.get(f"{API}/users/me", headers=first_headers)).json()
    me_second = (await client.get(f"{API}/users/me", headers=second_headers)).json()
    assert uuid.UUID(me_first["id"]) == first.id
    assert uuid.UUID(me_second["id"]) == second.id
