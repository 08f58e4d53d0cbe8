"""Sessions: refresh rotation, reuse detection, CSRF, logout, and revocation on account changes."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import httpx
import jwt
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from app.core.config import settings
from app.core.db import SessionMaker
from app.core.email import generate_password_reset_token
from app.models import RefreshToken
from tests.utils import API, create_user, random_lower_string

TOKEN_URL = f"{API}/login/access-token"
REFRESH_URL = f"{API}/login/refresh"
ME = f"{API}/users/me"


class Device:
    """One browser: its own cookie jar, the access token it holds in memory."""

    def __init__(self, app: object) -> None:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.http = httpx.AsyncClient(transport=transport, base_url="http://test")
        self.access_token = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def refresh_cookie(self) -> str | None:
        return self.http.cookies.get("refresh_token", path=f"{API}/login/refresh")

    @property
    def csrf(self) -> str:
        return self.http.cookies.get("csrf_token", path="/") or ""

    async def log_in(self, email: str, password: str) -> httpx.Response:
        response = await self.http.post(TOKEN_URL, data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        self.access_token = response.json()["access_token"]
        return response

    async def refresh(self) -> httpx.Response:
        response = await self.http.post(REFRESH_URL, headers={"X-CSRF-Token": self.csrf})
        if response.status_code == 200:
            self.access_token = response.json()["access_token"]
        return response

    async def me(self) -> httpx.Response:
        return await self.http.get(ME, headers=self.headers)


@pytest.fixture
async def devices(app: object):
    """A factory of devices, closed after the test."""
    opened: list[Device] = []

    def make() -> Device:
        opened.append(Device(app))
        return opened[-1]

    yield make
    for device in opened:
        await device.http.aclose()


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """The response's Set-Cookie headers by cookie name."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            found[name] = cookie
    return found


def assert_session_gone(response: httpx.Response) -> None:
    """401 with a JSON detail: the SPA refreshes once, then goes to login."""
    assert response.status_code == 401, response.text
    assert isinstance(response.json()["detail"], str)


def assert_refresh_refused(response: httpx.Response) -> None:
    """401 `{detail, code}` and both cookies cleared."""
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_refresh_token"
    cleared = set_cookies(response)
    assert cleared["refresh_token"]["refresh_token"]["max-age"] == "0"
    assert cleared["csrf_token"]["csrf_token"]["max-age"] == "0"


async def family_rows(family_id: str) -> list[RefreshToken]:
    async with SessionMaker() as session:
        statement = select(RefreshToken).where(col(RefreshToken.family_id) == uuid.UUID(family_id))
        return list((await session.exec(statement)).all())


def sid_of(token: str) -> str:
    return str(jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])["sid"])


# --- login and cookies ------------------------------------------------------------------------


async def test_login_sets_the_session_cookies(devices) -> None:
    user, password = await create_user()
    device = devices()
    response = await device.log_in(user.email, password)
    claims = jwt.decode(response.json()["access_token"], settings.SECRET_KEY, algorithms=["HS256"])
    assert uuid.UUID(claims["sid"])
    lifetime = claims["exp"] - datetime.now(UTC).timestamp()
    assert 14 * 60 < lifetime <= 15 * 60  # the default: 15 minutes
    cookies = set_cookies(response)
    refresh = cookies["refresh_token"]["refresh_token"]
    assert refresh["httponly"] is True
    assert refresh["samesite"] == "strict"
    assert refresh["path"] == f"{API}/login/refresh"
    assert not refresh["secure"]  # APP_ENV=test serves plain http
    csrf = cookies["csrf_token"]["csrf_token"]
    assert not csrf["httponly"]  # the SPA reads it to send X-CSRF-Token
    assert csrf["samesite"] == "strict"
    assert csrf["path"] == "/"
    # Stored hashed: the raw token appears nowhere in the table.
    rows = await family_rows(claims["sid"])
    assert len(rows) == 1
    assert rows[0].token_hash != device.refresh_cookie
    assert len(rows[0].token_hash) == 64


async def test_cookies_are_secure_when_configured(devices, monkeypatch) -> None:
    monkeypatch.setattr(settings, "AUTH_COOKIE_SECURE", True)
    user, password = await create_user()
    response = await devices().log_in(user.email, password)
    cookies = set_cookies(response)
    assert cookies["refresh_token"]["refresh_token"]["secure"] is True
    assert cookies["csrf_token"]["csrf_token"]["secure"] is True


async def test_an_access_token_without_a_session_is_refused(client: httpx.AsyncClient) -> None:
    from app.core import security

    user, _ = await create_user()
    token = security.create_access_token(user.id, expires_delta=timedelta(minutes=5))
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert_session_gone(response)
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_an_unknown_session_id_is_refused(client: httpx.AsyncClient) -> None:
    from app.core import security

    user, _ = await create_user()
    token = security.create_access_token(
        user.id, expires_delta=timedelta(minutes=5), session_id=uuid.uuid4()
    )
    assert_session_gone(await client.get(ME, headers={"Authorization": f"Bearer {token}"}))


@pytest.mark.parametrize("sid", ["not-a-uuid", 12345, ""], ids=["not-uuid", "number", "empty"])
async def test_a_malformed_session_id_is_refused(client: httpx.AsyncClient, sid: object) -> None:
    user, _ = await create_user()
    exp = datetime.now(UTC) + timedelta(minutes=5)
    token = jwt.encode({"sub": str(user.id), "sid": sid, "exp": exp}, settings.SECRET_KEY)
    assert_session_gone(await client.get(ME, headers={"Authorization": f"Bearer {token}"}))


# --- refresh ----------------------------------------------------------------------------------


async def test_refresh_rotates_the_refresh_token(devices) -> None:
    user, password = await create_user()
    device = devices()
    await device.log_in(user.email, password)
    first_access, first_refresh, first_csrf = (
        device.access_token,
        device.refresh_cookie,
        device.csrf,
    )
    response = await device.refresh()
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    assert device.refresh_cookie not in (None, first_refresh)
    assert device.csrf != first_csrf  # a new CSRF token with every rotation
    assert sid_of(device.access_token) == sid_of(first_access)  # same session
    me = await device.me()
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id)
    rows = await family_rows(sid_of(first_access))
    assert len(rows) == 2
    assert sum(row.used_at is not None for row in rows) == 1
    assert all(row.revoked_at is None for row in rows)
    # And again: each rotation hands out a working token.
    assert (await device.refresh()).status_code == 200
    assert (await device.me()).status_code == 200


async def test_reusing_a_refresh_token_revokes_the_family(devices) -> None:
    user, password = await create_user()
    victim, other = devices(), devices()
    await victim.log_in(user.email, password)
    await other.log_in(user.email, password)
    stolen = victim.refresh_cookie
    assert stolen
    assert (await victim.refresh()).status_code == 200  # the victim rotates

    thief = devices()
    thief.http.cookies.set("refresh_token", stolen, path=f"{API}/login/refresh")
    thief.http.cookies.set("csrf_token", "thief-csrf", path="/")
    assert_refresh_refused(await thief.refresh())

    # The whole family is dead: the victim's current refresh token and access token too.
    assert_refresh_refused(await victim.refresh())
    assert_session_gone(await victim.me())
    rows = await family_rows(sid_of(victim.access_token))
    assert rows and all(row.revoked_at is not None for row in rows)
    # Another device's session is a different family and lives on.
    assert (await other.me()).status_code == 200
    assert (await other.refresh()).status_code == 200


async def test_concurrent_refreshes_with_one_token_let_at_most_one_win(devices) -> None:
    user, password = await create_user()
    device = devices()
    await device.log_in(user.email, password)
    cookies = {"refresh_token": device.refresh_cookie or "", "csrf_token": device.csrf}

    async def attempt() -> httpx.Response:
        racer = devices()
        racer.http.cookies.set("refresh_token", cookies["refresh_token"], path=REFRESH_URL)
        racer.http.cookies.set("csrf_token", cookies["csrf_token"], path="/")
        return await racer.refresh()

    responses = await asyncio.gather(*(attempt() for _ in range(5)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(200) <= 1, statuses
    assert set(statuses) <= {200, 401}, statuses
    # Reuse was detected, so the family is revoked, the winner's tokens included.
    rows = await family_rows(sid_of(device.access_token))
    assert all(row.revoked_at is not None for row in rows)


async def test_expired_refresh_token_is_refused(devices) -> None:
    user, password = await create_user()
    device = devices()
    await device.log_in(user.email, password)
    async with SessionMaker() as session:
        await session.exec(
            update(RefreshToken)
            .where(col(RefreshToken.user_id) == user.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    assert_refresh_refused(await device.refresh())
    rows = await family_rows(sid_of(device.access_token))
    assert all(row.revoked_at is not None for row in rows)


@pytest.mark.parametrize(
    "forged",
    [random_lower_string(43), "", "x" * 5000, "ünïcödé-tökén"],
    ids=["random", "empty", "huge", "non-ascii"],
)
async def test_forged_refresh_token_is_refused(devices, forged: str) -> None:
    user, password = await create_user()
    device = devices()
    await device.log_in(user.email, password)
    thief = devices()
    # A raw Cookie header (UTF-8 bytes), as any client may send.
    cookie = f"refresh_token={forged}; csrf_token=some-csrf" if forged else "csrf_token=some-csrf"
    response = await thief.http.post(
        REFRESH_URL, headers={"Cookie": cookie.encode(), "X-CSRF-Token": "some-csrf"}
    )
    assert_refresh_refused(response)
    assert (await device.refresh()).status_code == 200  # the real session is untouched


async def test_refresh_without_a_session_cookie_is_401(client: httpx.AsyncClient) -> None:
    client.cookies.set("csrf_token", "abc", path="/")
    response = await client.post(REFRESH_URL, headers={"X-CSRF-Token": "abc"})
    assert_refresh_refused(response)


@pytest.mark.parametrize(
    ("header", "cookie"),
    [(None, "kept"), ("wrong", "kept"), ("", "kept"), ("same", None)],
    ids=["no-header", "mismatch", "empty-header", "no-cookie"],
)
async def test_refresh_without_the_csrf_token_is_403(
    devices, header: str | None, cookie: str | None
) -> None:
    user, password = await create_user()
    device = devices()
    await device.log_in(user.email, password)
    if cookie is None:
        device.http.cookies.delete("csrf_token", path="/")
    headers = {} if header is None else {"X-CSRF-Token": header}
    response = await device.http.post(REFRESH_URL, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json() == {"detail": "Missing or invalid CSRF token", "code": "csrf_failed"}
    assert (await device.refresh()).status_code == (200 if cookie else 403)


# --- logout -----------------------------------------------------------------------------------


async def test_logout_ends_this_device_only(devices) -> None:
    user, password = await create_user()
    laptop, phone = devices(), devices()
    await laptop.log_in(user.email, password)
    await phone.log_in(user.email, password)
    kept = laptop.refresh_cookie or ""
    response = await laptop.http.post(f"{API}/logout", headers=laptop.headers)
    assert response.status_code == 200
    assert response.json() == {"message": "Logged out"}
    assert set_cookies(response)["refresh_token"]["refresh_token"]["max-age"] == "0"
    assert_session_gone(await laptop.me())
    assert (await phone.me()).status_code == 200
    assert (await phone.refresh()).status_code == 200
    # A copy of the laptop's refresh token kept before logging out is dead too.
    rows = await family_rows(sid_of(laptop.access_token))
    assert rows and all(row.revoked_at is not None for row in rows)
    thief = devices()
    thief.http.cookies.set("refresh_token", kept, path=REFRESH_URL)
    thief.http.cookies.set("csrf_token", "c", path="/")
    assert_refresh_refused(await thief.refresh())


async def test_logout_needs_an_access_token(client: httpx.AsyncClient) -> None:
    assert (await client.post(f"{API}/logout")).status_code == 401
    assert (await client.post(f"{API}/logout/all")).status_code == 401


async def test_logout_all_ends_every_session(devices) -> None:
    user, password = await create_user()
    other_user, other_password = await create_user()
    laptop, phone, stranger = devices(), devices(), devices()
    await laptop.log_in(user.email, password)
    await phone.log_in(user.email, password)
    await stranger.log_in(other_user.email, other_password)
    response = await phone.http.post(f"{API}/logout/all", headers=phone.headers)
    assert response.status_code == 200
    for device in (laptop, phone):
        assert_session_gone(await device.me())
    assert_refresh_refused(await laptop.refresh())
    assert (await stranger.me()).status_code == 200  # another user's sessions are untouched


# --- account changes revoke every session -----------------------------------------------------


async def test_password_change_revokes_every_session(devices) -> None:
    user, password = await create_user()
    laptop, phone = devices(), devices()
    await laptop.log_in(user.email, password)
    await phone.log_in(user.email, password)
    new_password = random_lower_string(16)
    response = await laptop.http.patch(
        f"{ME}/password",
        headers=laptop.headers,
        json={"current_password": password, "new_password": new_password},
    )
    assert response.status_code == 200, response.text
    for device in (laptop, phone):
        assert_session_gone(await device.me())
    assert_refresh_refused(await phone.refresh())
    # The device that changed the password got a new session through its cookies.
    assert (await laptop.refresh()).status_code == 200
    assert (await laptop.me()).status_code == 200


async def test_password_reset_revokes_every_session(devices, client: httpx.AsyncClient) -> None:
    user, password = await create_user()
    device = devices()
    await device.log_in(user.email, password)
    token = generate_password_reset_token(email=user.email)
    response = await client.post(
        f"{API}/reset-password/", json={"token": token, "new_password": "a-brand-new-pass"}
    )
    assert response.status_code == 200
    assert_session_gone(await device.me())
    assert_refresh_refused(await device.refresh())


async def test_superuser_setting_a_password_revokes_every_session(
    devices, superuser_token_headers: dict[str, str], client: httpx.AsyncClient
) -> None:
    user, password = await create_user()
    device = devices()
    await device.log_in(user.email, password)
    response = await client.patch(
        f"{API}/users/{user.id}", headers=superuser_token_headers, json={"password": "x" * 12}
    )
    assert response.status_code == 200
    assert_session_gone(await device.me())


async def test_profile_edit_keeps_sessions(
    devices, superuser_token_headers: dict[str, str], client: httpx.AsyncClient
) -> None:
    user, password = await create_user()
    device = devices()
    await device.log_in(user.email, password)
    response = await client.patch(
        f"{API}/users/{user.id}", headers=superuser_token_headers, json={"full_name": "Renamed"}
    )
    assert response.status_code == 200
    assert (await device.me()).status_code == 200


async def test_deactivation_revokes_every_session(
    devices, superuser_token_headers: dict[str, str], client: httpx.AsyncClient
) -> None:
    user, password = await create_user()
    device = devices()
    await device.log_in(user.email, password)
    url = f"{API}/users/{user.id}"
    deactivate = await client.patch(url, headers=superuser_token_headers, json={"is_active": False})
    assert deactivate.status_code == 200
    assert (await device.me()).status_code in (400, 401)
    assert_refresh_refused(await device.refresh())
    # Reactivating the account doesn't bring old sessions back.
    reactivate = await client.patch(url, headers=superuser_token_headers, json={"is_active": True})
    assert reactivate.status_code == 200
    assert_session_gone(await device.me())


async def test_deleting_a_user_deletes_their_sessions(
    devices, superuser_token_headers: dict[str, str], client: httpx.AsyncClient
) -> None:
    user, password = await create_user()
    device = devices()
    await device.log_in(user.email, password)
    sid = sid_of(device.access_token)
    deleted = await client.delete(f"{API}/users/{user.id}", headers=superuser_token_headers)
    assert deleted.status_code == 200
    assert await family_rows(sid) == []
    assert_refresh_refused(await device.refresh())
