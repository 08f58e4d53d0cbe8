"""Unique and foreign-key violations: 409 or 404 with `{detail, code}`, never a 500, also in a race.

The check before an insert can't see a concurrent insert: these tests start several requests at
once (each with its own database session) so that most of them reach the insert after another one
committed, and the database's constraint has to decide.
"""

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from app.core.config import settings
from app.core.db import SessionMaker
from app.crud.errors import AlreadyExistsError, MissingReferenceError, from_integrity_error
from app.models import AgentFeedback, Item, User
from tests.evaluation.helpers import create_run
from tests.utils import API, create_user, create_user_and_login, random_email, random_lower_string

CONCURRENCY = 8
# SQLite's foreign-key error names no constraint, so the message is the generic one there.
MISSING_USER = (
    "User not found" if settings.is_postgres else "A record this refers to does not exist"
)


async def users_with_email(email: str) -> int:
    async with SessionMaker() as session:
        statement = select(func.count()).where(func.lower(col(User.email)) == email.lower())
        return (await session.exec(statement)).one()


async def at_once(send: Callable[[], Awaitable[httpx.Response]]) -> list[httpx.Response]:
    return list(await asyncio.gather(*(send() for _ in range(CONCURRENCY))))


def assert_one_winner(responses: list[httpx.Response]) -> None:
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: CONCURRENCY - 1}, [r.text for r in responses]
    for loser in (r for r in responses if r.status_code == 409):
        assert loser.json() == {
            "detail": "The user with this email already exists",
            "code": "already_exists",
        }


async def test_concurrent_signups_with_one_email(client: httpx.AsyncClient) -> None:
    email = random_email()

    async def sign_up() -> httpx.Response:
        body = {"email": email, "password": random_lower_string(16)}
        return await client.post(f"{API}/users/signup", json=body)

    assert_one_winner(await at_once(sign_up))
    assert await users_with_email(email) == 1


async def test_concurrent_admin_creates_with_one_email(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    email = random_email()

    async def create() -> httpx.Response:
        body = {"email": email, "password": random_lower_string(16)}
        return await client.post(f"{API}/users/", headers=superuser_token_headers, json=body)

    assert_one_winner(await at_once(create))
    assert await users_with_email(email) == 1


async def test_concurrent_email_changes_to_one_address(client: httpx.AsyncClient) -> None:
    """Several users take the same new address at once: one gets it, the others a 409."""
    email = random_email()
    logins = [await create_user_and_login(client) for _ in range(CONCURRENCY)]
    responses = await asyncio.gather(
        *(
            client.patch(f"{API}/users/me", headers=headers, json={"email": email})
            for headers, _ in logins
        )
    )
    assert_one_winner(list(responses))
    assert await users_with_email(email) == 1


async def test_an_email_differing_only_in_case_is_taken(client: httpx.AsyncClient) -> None:
    user, _ = await create_user()
    body = {"email": user.email.upper(), "password": random_lower_string(16)}
    response = await client.post(f"{API}/users/signup", json=body)
    assert response.status_code == 409
    assert response.json()["code"] == "already_exists"


async def test_concurrent_sign_ups_with_one_email_in_different_cases(
    client: httpx.AsyncClient,
) -> None:
    """Emails are stored lower-case, so the unique index settles a race between case variants."""
    local, domain = random_email().split("@")
    variants = [local.upper() + "@" + domain, local + "@" + domain.upper(), f"{local}@{domain}"]
    responses = await asyncio.gather(
        *(
            client.post(
                f"{API}/users/signup",
                json={"email": variants[i % len(variants)], "password": random_lower_string(16)},
            )
            for i in range(CONCURRENCY)
        )
    )
    assert_one_winner(list(responses))
    winner = next(r for r in responses if r.status_code == 200)
    assert winner.json()["email"] == f"{local}@{domain}".lower()
    assert await users_with_email(f"{local}@{domain}".lower()) == 1


async def test_concurrent_first_feedback_keeps_one_row(client: httpx.AsyncClient) -> None:
    """uq_agent_feedback_run_user: simultaneous first submissions end as one row, no error."""
    headers, user = await create_user_and_login(client)
    run = await create_run(user.id)
    responses = await asyncio.gather(
        *(
            client.post(
                f"{API}/agent/runs/{run.id}/feedback",
                headers=headers,
                json={"score": 1 if i % 2 else -1, "comment": f"take {i}"},
            )
            for i in range(CONCURRENCY)
        )
    )
    assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
    async with SessionMaker() as session:
        count = select(func.count()).where(col(AgentFeedback.run_id) == run.id)
        assert (await session.exec(count)).one() == 1


async def test_constraint_violations_are_classified() -> None:
    """The database's own errors (unique, foreign key) become the domain errors the API maps."""
    user, _ = await create_user()
    async with SessionMaker() as session:
        session.add(User(email=user.email, hashed_password="x"))
        with pytest.raises(IntegrityError) as unique:
            await session.commit()
    async with SessionMaker() as session:
        session.add(Item(title="orphan", owner_id=uuid.uuid4()))
        with pytest.raises(IntegrityError) as foreign:
            await session.commit()

    taken = from_integrity_error(unique.value)
    assert isinstance(taken, AlreadyExistsError)
    assert taken.message == "The user with this email already exists"
    missing = from_integrity_error(foreign.value)
    assert isinstance(missing, MissingReferenceError)
    assert (missing.message, missing.code) == (MISSING_USER, "not_found")


async def test_an_insert_for_a_deleted_user_is_404(client: httpx.AsyncClient) -> None:
    """The owner deleted between the token check and the insert: the foreign key answers 404."""
    from app.api.errors import store_error

    async with SessionMaker() as session:
        session.add(Item(title="late", owner_id=uuid.uuid4()))
        with pytest.raises(IntegrityError) as foreign:
            await session.commit()
    response = await store_error(None, foreign.value)  # type: ignore[arg-type]
    assert response.status_code == 404
    assert json.loads(response.body) == {"detail": MISSING_USER, "code": "not_found"}
