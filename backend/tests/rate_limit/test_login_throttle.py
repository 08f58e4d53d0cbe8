"""The per-account login throttle: back-off across source addresses, with or without Redis."""

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest

from app.core.config import settings
from tests.core.test_email import Mailbox, body_text, smtp_server  # noqa: F401  (fixture)
from tests.support.redis import RedisServer
from tests.utils import API, create_user, random_email

TOKEN_URL = f"{API}/login/access-token"
ADDRESSES = [f"198.51.100.{n}" for n in range(1, 7)]


@pytest.fixture
def throttle_on(limits_on: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """IP limits on (3 per address), the account throttle on, X-Forwarded-For from loopback."""
    limits_on.setattr(settings, "TRUSTED_PROXIES", ["127.0.0.1/32"])
    limits_on.setattr(settings, "LOGIN_THROTTLE_ENABLED", True)
    limits_on.setattr(settings, "LOGIN_THROTTLE_FREE_ATTEMPTS", 5)
    limits_on.setattr(settings, "LOGIN_THROTTLE_BASE_SECONDS", 30.0)
    limits_on.setattr(settings, "LOGIN_FAILURE_EMAIL_AFTER", 0)
    yield limits_on


async def login(
    client: httpx.AsyncClient, email: str, password: str, address: str = "203.0.113.1"
) -> httpx.Response:
    return await client.post(
        TOKEN_URL,
        data={"username": email, "password": password},
        headers={"X-Forwarded-For": address},
    )


async def spray(client: httpx.AsyncClient, email: str, attempts: int) -> list[httpx.Response]:
    """Wrong passwords for one account, rotating over six source addresses."""
    return [
        await login(client, email, f"wrong-password-{n}", ADDRESSES[n % len(ADDRESSES)])
        for n in range(attempts)
    ]


def assert_throttled(response: httpx.Response, max_wait: int) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "login_throttled"
    assert "Too many failed login attempts" in body["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= max_wait


async def check_spray_is_throttled(client: httpx.AsyncClient) -> None:
    user, password = await create_user()
    responses = await spray(client, user.email, 12)
    # Two attempts per address: the per-IP limit (3) never fires, the account throttle does.
    assert [r.status_code for r in responses[:5]] == [400] * 5
    for response in responses[5:]:
        assert_throttled(response, 30)
    # While locked even the right password is refused, from a fresh address.
    assert_throttled(await login(client, user.email, password, "192.0.2.99"), 30)


async def test_spraying_one_account_from_many_addresses_is_throttled(
    client: httpx.AsyncClient, throttle_on: pytest.MonkeyPatch, redis_limits: RedisServer
) -> None:
    await check_spray_is_throttled(client)


async def test_the_throttle_holds_with_redis_stopped(
    client: httpx.AsyncClient, throttle_on: pytest.MonkeyPatch, own_redis: RedisServer
) -> None:
    throttle_on.setattr(settings, "RATE_LIMIT_FAIL_OPEN", True)  # IP limits give way...
    own_redis.stop()
    await check_spray_is_throttled(client)  # ...the account throttle doesn't


async def test_back_off_doubles_and_a_success_resets_it(
    client: httpx.AsyncClient, throttle_on: pytest.MonkeyPatch
) -> None:
    throttle_on.setattr(settings, "LOGIN_THROTTLE_FREE_ATTEMPTS", 2)
    throttle_on.setattr(settings, "LOGIN_THROTTLE_BASE_SECONDS", 1.0)
    throttle_on.setattr(settings, "AUTH_RATE_LIMIT_PER_MINUTE", 0)
    user, password = await create_user()
    assert [r.status_code for r in await spray(client, user.email, 2)] == [400, 400]
    assert_throttled(await login(client, user.email, "wrong-again"), 1)  # locked 1 s
    await asyncio.sleep(1.1)
    assert (await login(client, user.email, "wrong-again")).status_code == 400
    locked = await login(client, user.email, password)
    assert_throttled(locked, 2)  # the next lock is twice as long
    assert int(locked.headers["Retry-After"]) == 2
    await asyncio.sleep(2.1)
    assert (await login(client, user.email, password)).status_code == 200
    # A success forgets the streak: two more free attempts.
    assert [r.status_code for r in await spray(client, user.email, 2)] == [400, 400]


async def test_unknown_and_known_accounts_answer_alike(
    client: httpx.AsyncClient, throttle_on: pytest.MonkeyPatch
) -> None:
    throttle_on.setattr(settings, "AUTH_RATE_LIMIT_PER_MINUTE", 0)
    user, _ = await create_user()
    known = await spray(client, user.email, 7)
    unknown = await spray(client, random_email(), 7)

    def shape(response: httpx.Response) -> tuple[int, str, str | None]:
        body = response.json()  # the seconds in a 429's detail tick down: compare without them
        return response.status_code, re.sub(r"\d+", "N", body["detail"]), body.get("code")

    assert [shape(r) for r in known] == [shape(r) for r in unknown]
    assert known[0].json() == {"detail": "Incorrect email or password", "code": "bad_request"}
    assert known[-1].status_code == 429


async def test_a_concurrent_burst_cannot_slip_past_the_lock(
    client: httpx.AsyncClient, throttle_on: pytest.MonkeyPatch
) -> None:
    throttle_on.setattr(settings, "LOGIN_THROTTLE_FREE_ATTEMPTS", 3)
    throttle_on.setattr(settings, "AUTH_RATE_LIMIT_PER_MINUTE", 0)
    user, _ = await create_user()
    responses = await asyncio.gather(
        *(login(client, user.email, f"guess-{n}", ADDRESSES[n % 6]) for n in range(12))
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {400, 429}, statuses
    assert statuses.count(400) <= 3, statuses  # only the free attempts checked a password


async def test_the_owner_is_emailed_once_after_repeated_failures(
    client: httpx.AsyncClient,
    throttle_on: pytest.MonkeyPatch,
    smtp_server: Mailbox,  # noqa: F811
) -> None:
    throttle_on.setattr(settings, "LOGIN_THROTTLE_FREE_ATTEMPTS", 10)
    throttle_on.setattr(settings, "LOGIN_FAILURE_EMAIL_AFTER", 3)
    user, _ = await create_user()
    await spray(client, random_email(), 5)  # no account: nobody to tell
    assert smtp_server.messages == []
    responses = await spray(client, user.email.upper(), 5)
    assert [r.status_code for r in responses] == [400] * 5
    assert len(smtp_server.messages) == 1
    envelope, message = smtp_server.messages[0]
    assert envelope.rcpt_tos == [user.email]
    assert "Failed login attempts" in message["Subject"]
    text = body_text(message, "plain")
    assert "3 failed attempts" in text
    assert ADDRESSES[2] in text  # the third attempt's source address, as the proxy saw it
    assert "recover-password" in body_text(message, "html")


async def test_the_throttle_is_off_when_disabled(
    client: httpx.AsyncClient, throttle_on: pytest.MonkeyPatch
) -> None:
    throttle_on.setattr(settings, "LOGIN_THROTTLE_ENABLED", False)
    throttle_on.setattr(settings, "AUTH_RATE_LIMIT_PER_MINUTE", 0)
    user, password = await create_user()
    assert {r.status_code for r in await spray(client, user.email, 8)} == {400}
    assert (await login(client, user.email, password)).status_code == 200
