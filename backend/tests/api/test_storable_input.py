"""Text the database or the checkpointer can't store is refused before anything starts.

Every stored text field of every route, with a NUL character and with a lone surrogate: 422 in
FastAPI's validation shape, `loc` naming the field (and the path inside JSON), and not one row
written or changed anywhere.
"""

import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from app.core import security
from app.core.config import settings
from app.core.db import SessionMaker
from app.crud import user as crud_user
from app.models import User
from app.models.storable import MAX_JSON_DEPTH
from app.services.auth import sessions
from tests.utils import API, create_item, create_user_and_login, random_email

NUL = "a\x00b"
SURROGATE = "a\ud800b"
PASSWORD = "a-long-password"


async def table_snapshot() -> dict[str, list[Any]]:
    """Every row of every table (they are small in a test)."""
    snapshot: dict[str, list[Any]] = {}
    async with SessionMaker() as session:
        for table in SQLModel.metadata.sorted_tables:
            rows = await session.exec(text(f'SELECT * FROM "{table.name}"'))  # type: ignore[call-overload]
            snapshot[table.name] = sorted(map(repr, rows.all()))
    return snapshot


# (who, method, path, body with BAD where the bad value goes, expected loc)
# `{item}`, `{user}`, `{id}` in paths are filled with an item of the caller, another user, a
# random id (validation runs before the handler looks anything up).
CASES: list[tuple[str, str, str, Any, list[Any]]] = [
    ("user", "POST", "/items/", {"title": "BAD"}, ["body", "title"]),
    ("user", "POST", "/items/", {"title": "t", "description": "BAD"}, ["body", "description"]),
    ("user", "PUT", "/items/{item}", {"title": "BAD"}, ["body", "title"]),
    ("user", "PUT", "/items/{item}", {"description": "BAD"}, ["body", "description"]),
    ("anon", "POST", "/users/signup", {"email": "@", "password": "BAD"}, ["body", "password"]),
    (
        "anon",
        "POST",
        "/users/signup",
        {"email": "@", "password": PASSWORD, "full_name": "BAD"},
        ["body", "full_name"],
    ),
    ("anon", "POST", "/users/signup", {"email": "BAD@example.com", "password": PASSWORD}, None),
    ("admin", "POST", "/users/", {"email": "@", "password": "BAD"}, ["body", "password"]),
    (
        "admin",
        "POST",
        "/users/",
        {"email": "@", "password": PASSWORD, "full_name": "BAD"},
        ["body", "full_name"],
    ),
    ("admin", "PATCH", "/users/{user}", {"full_name": "BAD"}, ["body", "full_name"]),
    ("admin", "PATCH", "/users/{user}", {"password": "BADBADBAD"}, ["body", "password"]),
    ("user", "PATCH", "/users/me", {"full_name": "BAD"}, ["body", "full_name"]),
    ("user", "PATCH", "/users/me", {"email": "BAD@example.com"}, None),
    (
        "user",
        "PATCH",
        "/users/me/password",
        {"current_password": PASSWORD, "new_password": "BADBADBAD"},
        ["body", "new_password"],
    ),
    (
        "anon",
        "POST",
        "/reset-password/",
        {"token": "BAD", "new_password": PASSWORD},
        ["body", "token"],
    ),
    ("user", "POST", "/agent/run", {"message": "BAD"}, ["body", "message"]),
    ("user", "POST", "/agent/run/stream", {"message": "BAD"}, ["body", "message"]),
    (
        "user",
        "POST",
        "/agent/run",
        {"message": "hi", "metadata": {"BAD": 1}},
        ["body", "metadata", "BAD"],
    ),
    (
        "user",
        "POST",
        "/agent/run",
        {"message": "hi", "metadata": {"a": {"b": ["x", "BAD"]}}},
        ["body", "metadata", "a", "b", 1],
    ),
    (
        "user",
        "POST",
        "/agent/run/stream",
        {"message": "hi", "metadata": {"a": "BAD"}},
        ["body", "metadata", "a"],
    ),
    (
        "user",
        "POST",
        "/agent/threads/{id}/approvals/{id}",
        {"decision": "reject", "comment": "BAD"},
        ["body", "comment"],
    ),
    (
        "user",
        "POST",
        "/agent/threads/{id}/approvals/{id}/stream",
        {"decision": "edit", "args": {"url": "BAD"}},
        ["body", "args", "url"],
    ),
    (
        "user",
        "POST",
        "/agent/runs/{id}/feedback",
        {"score": 1, "comment": "BAD"},
        ["body", "comment"],
    ),
    ("admin", "POST", "/agent/evaluations", {"tags": ["BAD"]}, ["body", "tags", 0]),
    ("admin", "POST", "/agent/evaluations", {"name": "BAD"}, ["body", "name"]),
    ("admin", "POST", "/agent/evaluations", {"user": "BAD"}, ["body", "user"]),
    ("admin", "POST", "/agent/evaluations", {"metrics": ["BAD"]}, ["body", "metrics", 0]),
]


def fill(value: Any, bad: str) -> Any:
    """The body with BAD replaced by the bad text (in keys too) and `@` by a fresh email."""
    if isinstance(value, str):
        return random_email() if value == "@" else value.replace("BAD", bad)
    if isinstance(value, dict):
        return {fill(k, bad): fill(v, bad) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, bad) for v in value]
    return value


async def bearer(user_id: uuid.UUID) -> dict[str, str]:
    """Headers with a session started directly (no Argon2 login per case: 54 cases)."""
    async with SessionMaker() as session:
        issued = await sessions.start_session(session, user_id)
    return {"Authorization": f"Bearer {issued.access_token}"}


@pytest.fixture(scope="module")
async def password_hash() -> str:
    """PASSWORD hashed once for the module."""
    return await security.hash_password_async(PASSWORD)


@pytest.fixture
async def callers(password_hash: str) -> dict[str, Any]:
    async with SessionMaker() as session:
        user = User(email=random_email(), hashed_password=password_hash)
        other = User(email=random_email(), hashed_password="not-a-hash")
        session.add_all([user, other])
        await session.commit()
        admin = await crud_user.get_user_by_email(session=session, email=settings.FIRST_SUPERUSER)
    assert admin is not None
    item = await create_item(user.id)
    return {
        "headers": {"user": await bearer(user.id), "admin": await bearer(admin.id), "anon": {}},
        "paths": {"{item}": str(item.id), "{user}": str(other.id), "{id}": str(uuid.uuid4())},
    }


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize(
    ("who", "method", "path", "body", "loc"),
    CASES,
    ids=[f"{m} {p} {'.'.join(map(str, loc or ['email']))}" for _, m, p, _b, loc in CASES],
)
async def test_unstorable_text_is_422_and_nothing_is_written(
    client: httpx.AsyncClient,
    callers: dict[str, Any],
    bad: str,
    who: str,
    method: str,
    path: str,
    body: Any,
    loc: list[Any] | None,
) -> None:
    for placeholder, value in callers["paths"].items():
        path = path.replace(placeholder, value)
    before = await table_snapshot()
    response = await client.request(
        method,
        f"{API}{path}",
        headers={**callers["headers"][who], "Content-Type": "application/json"},
        # json.dumps escapes the surrogate (httpx's own encoder would fail on it)
        content=json.dumps(fill(body, bad)),
    )
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert isinstance(errors, list) and errors, errors
    locs = [error["loc"] for error in errors]
    if loc is None:  # emails: the email validator names the field itself
        assert any(error_loc[:2] in (["body", "email"],) for error_loc in locs), errors
    else:
        expected = [fill(part, bad.encode("utf-8", "backslashreplace").decode()) for part in loc]
        assert expected in locs, errors
    assert await table_snapshot() == before


async def test_unstorable_email_in_a_path_is_422(client: httpx.AsyncClient) -> None:
    before = await table_snapshot()
    response = await client.post(f"{API}/password-recovery/a%00b@example.com")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["path", "email"]
    assert await table_snapshot() == before


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"k": "x" * 5000}, "too large"),
        ({"k": [1] * 2000}, "too large"),
    ],
)
async def test_oversized_metadata_is_422(
    client: httpx.AsyncClient, metadata: dict[str, Any], message: str
) -> None:
    headers, _ = await create_user_and_login(client)
    before = await table_snapshot()
    response = await client.post(
        f"{API}/agent/run", headers=headers, json={"message": "hi", "metadata": metadata}
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "metadata"] and message in error["msg"]
    assert await table_snapshot() == before


async def test_over_deep_json_is_422_at_the_depth_limit(client: httpx.AsyncClient) -> None:
    headers, _ = await create_user_and_login(client)
    deep: Any = "leaf"
    for _ in range(MAX_JSON_DEPTH + 1):
        deep = {"d": deep}
    before = await table_snapshot()
    response = await client.post(
        f"{API}/agent/run", headers=headers, json={"message": "hi", "metadata": deep}
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "metadata", *(["d"] * MAX_JSON_DEPTH)]
    assert "nested deeper" in error["msg"]
    assert await table_snapshot() == before


async def test_args_without_edit_are_a_validation_error(client: httpx.AsyncClient) -> None:
    """Formerly a string `detail`; now FastAPI's array shape like every other 422."""
    headers, _ = await create_user_and_login(client)
    response = await client.post(
        f"{API}/agent/threads/{uuid.uuid4()}/approvals/{uuid.uuid4()}",
        headers=headers,
        json={"decision": "approve", "args": {"url": "https://example.com"}},
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"] and "only accepted with decision=edit" in error["msg"]


async def test_a_clean_run_with_metadata_still_runs(client: httpx.AsyncClient) -> None:
    """The validation refuses only what can't be stored: nested metadata of normal text runs."""
    headers, _ = await create_user_and_login(client)
    metadata = {"source": "test", "nested": {"list": [1, "two", None, True], "é": "ü"}}
    response = await client.post(
        f"{API}/agent/run", headers=headers, json={"message": "hello", "metadata": metadata}
    )
    assert response.status_code == 200, response.text
    run = await client.get(f"{API}/agent/runs/{response.json()['run_id']}", headers=headers)
    assert run.json()["metadata"] == metadata


# Query strings and Agent Protocol fields that reach a query: (method, path, params, body,
# where the error is).
QUERY_AND_PROTOCOL_CASES: list[tuple[str, str, dict[str, str] | None, Any, list[Any]]] = [
    ("GET", f"{API}/agent/threads", {"q": "BAD"}, None, ["query", "q"]),
    ("GET", "/agent-protocol/threads/{id}/history", {"before": "BAD"}, None, ["query", "before"]),
    ("POST", "/agent-protocol/threads/{id}/history", None, {"before": "BAD"}, ["body", "before"]),
    ("GET", "/agent-protocol/threads/{id}/state/BAD", {}, None, ["path", "checkpoint_id"]),
    (
        "POST",
        "/agent-protocol/threads/{id}/state/checkpoint",
        None,
        {"checkpoint": {"checkpoint_id": "BAD"}},
        ["body", "checkpoint", "checkpoint_id"],
    ),
    (
        "POST",
        "/agent-protocol/threads/{id}/history",
        None,
        {"before": {"configurable": {"checkpoint_id": "BAD"}}},
        ["body", "before"],
    ),
    (
        "POST",
        "/agent-protocol/threads/{id}/runs/wait",
        None,
        {"assistant_id": "agent", "checkpoint_id": "BAD"},
        ["body", "checkpoint_id"],
    ),
    (
        "POST",
        "/agent-protocol/threads/{id}/runs/wait",
        None,
        {"assistant_id": "agent", "checkpoint": {"checkpoint_ns": "BAD"}},
        ["body", "checkpoint", "checkpoint_ns"],
    ),
    (
        "POST",
        "/agent-protocol/threads/{id}/runs/wait",
        None,
        {"assistant_id": "agent", "command": {"goto": "BAD"}},
        ["body", "command", "goto"],
    ),
]


@pytest.mark.parametrize(
    ("bad", "method", "path", "params", "body", "loc"),
    [
        (bad, *case)
        for case in QUERY_AND_PROTOCOL_CASES
        # A lone surrogate can't be percent-encoded in a URL: queries get NUL only.
        for bad in ([NUL] if case[2] is not None else [NUL, SURROGATE])
    ],
    ids=[
        f"{name} {m} {p} {'.'.join(loc)}"
        for m, p, q, _b, loc in QUERY_AND_PROTOCOL_CASES
        for name in (["nul"] if q is not None else ["nul", "surrogate"])
    ],
)
async def test_unstorable_text_in_a_query_or_protocol_field_is_422(
    client: httpx.AsyncClient,
    callers: dict[str, Any],
    bad: str,
    method: str,
    path: str,
    params: dict[str, str] | None,
    body: Any,
    loc: list[Any],
) -> None:
    """Formerly a 500: the search term or checkpoint id reached PostgreSQL, which refused it."""
    path = path.replace("{id}", callers["paths"]["{id}"])
    if "BAD" in path:  # a path parameter (NUL only, as for queries)
        path = path.replace("BAD", quote(bad))
    before = await table_snapshot()
    response = await client.request(
        method,
        path,
        params=fill(params, bad) if params else None,
        headers={**callers["headers"]["user"], "Content-Type": "application/json"},
        content=json.dumps(fill(body, bad)) if body is not None else None,
    )
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert isinstance(errors, list) and errors, errors
    assert any(error["loc"][: len(loc)] == loc for error in errors), errors
    assert await table_snapshot() == before
