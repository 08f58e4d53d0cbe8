"""API key data access: add, list, count live keys, find by hash with its user, touch, revoke."""

import uuid
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import ApiKey, User, utcnow


def add_key(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    name: str,
    prefix: str,
    key_hash: str,
    expires_at: datetime | None,
) -> ApiKey:
    """Stage a new key (the caller commits)."""
    row = ApiKey(
        user_id=user_id, name=name, prefix=prefix, key_hash=key_hash, expires_at=expires_at
    )
    session.add(row)
    return row


async def list_for_user(
    *, session: AsyncSession, user_id: uuid.UUID, skip: int = 0, limit: int = 100
) -> tuple[list[ApiKey], int]:
    """A page of the user's keys (revoked and expired ones too), newest first, and their count."""
    count_statement = select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user_id)
    count = (await session.exec(count_statement)).one()
    statement = (
        select(ApiKey)
        .where(col(ApiKey.user_id) == user_id)
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id))
        .offset(skip)
        .limit(limit)
    )
    return list((await session.exec(statement)).all()), count


async def count_live(*, session: AsyncSession, user_id: uuid.UUID) -> int:
    """How many of the user's keys still work (not revoked, not expired)."""
    statement = (
        select(func.count())
        .select_from(ApiKey)
        .where(
            col(ApiKey.user_id) == user_id,
            col(ApiKey.revoked_at).is_(None),
            or_(col(ApiKey.expires_at).is_(None), col(ApiKey.expires_at) > utcnow()),
        )
    )
    return (await session.exec(statement)).one()


async def get_for_user(
    *, session: AsyncSession, user_id: uuid.UUID, key_id: uuid.UUID
) -> ApiKey | None:
    """The key when it belongs to `user_id`, else None."""
    statement = select(ApiKey).where(col(ApiKey.id) == key_id, col(ApiKey.user_id) == user_id)
    return (await session.exec(statement)).first()


async def get_with_user_by_hash(
    *, session: AsyncSession, key_hash: str
) -> tuple[ApiKey, User] | None:
    """The key with this hash and its owner, in one round trip."""
    statement = select(ApiKey, User).join(User).where(col(ApiKey.key_hash) == key_hash)
    row = (await session.exec(statement)).first()
    return None if row is None else (row[0], row[1])


async def touch(*, session: AsyncSession, key_id: uuid.UUID, used_before: datetime) -> None:
    """Set last_used_at to now unless it is already after `used_before` (the caller commits)."""
    await session.exec(
        update(ApiKey)
        .where(
            col(ApiKey.id) == key_id,
            or_(col(ApiKey.last_used_at).is_(None), col(ApiKey.last_used_at) < used_before),
        )
        .values(last_used_at=utcnow())
    )


async def revoke(*, session: AsyncSession, key: ApiKey) -> ApiKey:
    """Revoke a key (once: a revoked key keeps its first revocation time)."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        await session.commit()
        await session.refresh(key)
    return key
