"""Personal API keys: create (the key is shown once), list, revoke, and resolve a presented key.

A key is found by the SHA-256 of the whole key (an indexed equality lookup), so no stored secret
is ever compared byte by byte and timing reveals nothing about it.
"""

import uuid
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import security
from app.core.config import settings
from app.crud import api_key as crud_api_key
from app.models import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, User, utcnow
from app.services.auth.errors import ApiKeyLimitError, ApiKeyRejectedError
from app.services.auth.session_cache import session_cache

# last_used_at is a hint for people, not an audit log: one write a minute per key, not per request.
TOUCH_EVERY = timedelta(minutes=1)
# Anything longer is not a key we issued (ours are 47 characters); refused before hashing.
MAX_KEY_CHARS = 128


async def create_key(
    session: AsyncSession, user_id: uuid.UUID, key_in: ApiKeyCreate
) -> ApiKeyCreated:
    """Issue a key (ApiKeyLimitError when the user holds the most live keys allowed)."""
    limit = settings.API_KEY_MAX_PER_USER
    if await crud_api_key.count_live(session=session, user_id=user_id) >= limit:
        raise ApiKeyLimitError(limit)
    key = security.new_api_key()
    row = crud_api_key.add_key(
        session=session,
        user_id=user_id,
        name=key_in.name,
        prefix=key[: security.API_KEY_SHOWN_CHARS],
        key_hash=security.hash_api_key(key),
        expires_at=key_in.expiry(),
    )
    await session.commit()
    await session.refresh(row)
    return ApiKeyCreated.model_validate(row, update={"key": key})


async def list_keys(
    session: AsyncSession, user_id: uuid.UUID, *, skip: int = 0, limit: int = 100
) -> tuple[list[ApiKeyPublic], int]:
    """A page of the user's keys, newest first, without secrets."""
    rows, count = await crud_api_key.list_for_user(
        session=session, user_id=user_id, skip=skip, limit=limit
    )
    return [ApiKeyPublic.model_validate(r) for r in rows], count


async def revoke_key(session: AsyncSession, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    """Revoke one of the user's keys; None when it isn't theirs (or doesn't exist)."""
    row = await crud_api_key.get_for_user(session=session, user_id=user_id, key_id=key_id)
    if row is None:
        return None
    return await crud_api_key.revoke(session=session, key=row)


async def user_for_key(session: AsyncSession, key: str) -> User:
    """The owner of a live key (ApiKeyRejectedError when unknown, revoked or expired)."""
    if not key.startswith(security.API_KEY_PREFIX) or len(key) > MAX_KEY_CHARS:
        raise ApiKeyRejectedError()
    key_hash = security.hash_api_key(key)
    cached = session_cache.get_key(key_hash)
    if cached is not None:  # attached to this request's session as it was loaded: no query
        return await session.merge(cached, load=False)
    generation = session_cache.generation
    found = await crud_api_key.get_with_user_by_hash(session=session, key_hash=key_hash)
    if found is None:
        raise ApiKeyRejectedError()
    row, user = found
    now = utcnow()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise ApiKeyRejectedError()
    if row.last_used_at is None or row.last_used_at < now - TOUCH_EVERY:
        # Conditional: of several requests racing in the same minute, one writes. (While the
        # key is cached nothing is read or written, so `last_used_at` may lag by the cache's
        # lifetime on top of the minute.)
        await crud_api_key.touch(session=session, key_id=row.id, used_before=now - TOUCH_EVERY)
        await session.commit()
    session_cache.put_key(key_hash, row, user, generation)
    return user
