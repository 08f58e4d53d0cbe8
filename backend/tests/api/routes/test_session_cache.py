"""The session cache: a request with a recently verified token costs no user query, and every
change that ends a session or changes the user takes effect on the very next request — in this
process, and in another process through Redis."""

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from redis.asyncio import Redis
from sqlalchemy import event

from app.core.db import SessionMaker, engine
from app.crud import user as crud_user
from app.models import User, UserUpdate
from app.services.auth.session_cache import CHANNEL, SessionCache, session_cache
from tests.support.redis import start_redis
from tests.utils import API, create_user_and_login, random_lower_string

ME = f"{API}/users/me"


@pytest.fixture
def user_queries() -> Iterator[list[str]]:
    """Statements that read the `user` table while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if 'FROM "user"' in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", record)


async def warm(client: Any, headers: dict[str, str], user_queries: list[str]) -> None:
    """Verify the token once, then check the next request is served from the cache."""
    assert (await client.get(ME, headers=headers)).status_code == 200
    user_queries.clear()
    assert (await client.get(ME, headers=headers)).status_code == 200
    assert user_queries == []


async def test_a_verified_session_needs_no_user_query(client, user_queries) -> None:
    headers, user = await create_user_and_login(client)
    await warm(client, headers, user_queries)
    assert (await client.get(ME, headers=headers)).json()["id"] == str(user.id)


async def test_logout_takes_effect_at_once(client, user_queries) -> None:
    headers, _ = await create_user_and_login(client)
    await warm(client, headers, user_queries)
    assert (await client.post(f"{API}/logout", headers=headers)).status_code == 200
    assert (await client.get(ME, headers=headers)).status_code == 401


async def test_logout_everywhere_takes_effect_at_once(client, user_queries) -> None:
    headers, _ = await create_user_and_login(client)
    await warm(client, headers, user_queries)
    assert (await client.post(f"{API}/logout/all", headers=headers)).status_code == 200
    assert (await client.get(ME, headers=headers)).status_code == 401


async def test_password_change_takes_effect_at_once(client, user_queries) -> None:
    headers, _ = await create_user_and_login(client, password="old-password-123")
    await warm(client, headers, user_queries)
    body = {"current_password": "old-password-123", "new_password": random_lower_string(16)}
    assert (await client.patch(f"{ME}/password", headers=headers, json=body)).status_code == 200
    assert (await client.get(ME, headers=headers)).status_code == 401


async def test_deactivation_and_deletion_take_effect_at_once(
    client, superuser_token_headers, user_queries
) -> None:
    headers, user = await create_user_and_login(client)
    other_headers, other = await create_user_and_login(client)
    await warm(client, headers, user_queries)
    await warm(client, other_headers, user_queries)
    url = f"{API}/users/{user.id}"
    assert (
        await client.patch(url, headers=superuser_token_headers, json={"is_active": False})
    ).status_code == 200
    assert (await client.get(ME, headers=headers)).status_code in (400, 401)
    deleted = await client.delete(f"{API}/users/{other.id}", headers=superuser_token_headers)
    assert deleted.status_code == 200
    assert (await client.get(ME, headers=other_headers)).status_code in (401, 404)


async def test_profile_changes_show_at_once(client, superuser_token_headers, user_queries) -> None:
    headers, user = await create_user_and_login(client)
    await warm(client, headers, user_queries)
    renamed = await client.patch(ME, headers=headers, json={"full_name": "Renamed Once"})
    assert renamed.status_code == 200
    assert (await client.get(ME, headers=headers)).json()["full_name"] == "Renamed Once"
    await client.patch(
        f"{API}/users/{user.id}", headers=superuser_token_headers, json={"full_name": "By Admin"}
    )
    assert (await client.get(ME, headers=headers)).json()["full_name"] == "By Admin"


async def test_a_read_from_before_a_change_is_not_stored(client) -> None:
    _, user = await create_user_and_login(client)
    generation = session_cache.generation  # a request read the user under this generation...
    async with SessionMaker() as session:  # ...then a change committed...
        db_user = await crud_user.get_user(session=session, user_id=user.id)
        assert db_user is not None
        await crud_user.update_user(
            session=session, db_user=db_user, user_in=UserUpdate(full_name="Changed")
        )
    sid = uuid.uuid4()
    session_cache.put(user, sid, generation)  # ...so the old read isn't remembered
    assert session_cache.get(user.id, sid) is None
    session_cache.put(user, sid, session_cache.generation)  # (a current read is)
    assert session_cache.get(user.id, sid) is not None


async def started(redis_url: str, *caches: SessionCache) -> None:
    """Start the caches on Redis and wait until each has subscribed (subscribing forgets
    everything, a generation step; a read from before it isn't kept)."""
    before = [cache.generation for cache in caches]
    for cache in caches:
        await cache.start(redis_url)
    for _ in range(100):
        if all(c.generation > at for c, at in zip(caches, before, strict=True)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the caches never subscribed")


async def until(condition: Any) -> None:
    """Wait (up to 2.5 s) for `condition()`."""
    for _ in range(50):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_a_process_skips_its_own_messages() -> None:
    """A change forgets here at once; its message coming back through Redis doesn't forget
    again (that would refuse reads that started after the change). Another process's message
    does, with or without its origin."""
    redis = start_redis()
    here, there = SessionCache(), SessionCache()
    sid = uuid.uuid4()
    user = User(id=uuid.uuid4(), email="cache@example.com", hashed_password="x")
    try:
        await started(redis.url, here, there)
        generation = here.generation
        here.committed({uuid.uuid4()})
        assert here.generation == generation + 1
        # A message from `there` after it: Redis delivers a channel's messages in order, so
        # once `here` has forgotten the user, it has read its own message before.
        here.put(user, sid, here.generation)
        there.committed({user.id})
        await until(lambda: here.get(user.id, sid) is None)
        assert here.generation == generation + 2  # its own change, then `there`'s: no echo
        here.put(user, sid, here.generation)
        async with Redis.from_url(redis.url) as publisher:  # a message without an origin
            await publisher.publish(CHANNEL, str(user.id))
        await until(lambda: here.get(user.id, sid) is None)
    finally:
        await here.stop()
        await there.stop()
        redis.close()


async def test_another_process_forgets_through_redis(client, user_queries) -> None:
    """A second cache (another API process) forgets a session this process ended."""
    redis = start_redis()
    other = SessionCache()
    try:
        await started(redis.url, session_cache, other)
        headers, user = await create_user_and_login(client)
        await warm(client, headers, user_queries)
        token = headers["Authorization"].removeprefix("Bearer ")
        sid = uuid.UUID(jwt.decode(token, options={"verify_signature": False})["sid"])
        assert session_cache.get(user.id, sid) is not None
        other.put(user, sid, other.generation)
        assert other.get(user.id, sid) is not None
        assert (await client.post(f"{API}/logout", headers=headers)).status_code == 200
        for _ in range(50):
            if other.get(user.id, sid) is None:
                break
            await asyncio.sleep(0.05)
        assert other.get(user.id, sid) is None
    finally:
        await other.stop()
        await session_cache.stop()
        redis.close()
