"""Refresh-token data access: issue, find, mark used, revoke a family or every family of a user."""

import uuid
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import RefreshToken, User, utcnow


def add_token(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    family_id: uuid.UUID,
    token_hash: str,
    expires_at: datetime,
) -> RefreshToken:
    """Stage a new refresh token (the caller commits)."""
    row = RefreshToken(
        user_id=user_id, family_id=family_id, token_hash=token_hash, expires_at=expires_at
    )
    session.add(row)
    return row


async def get_by_hash(*, session: AsyncSession, token_hash: str) -> RefreshToken | None:
    """The token with this hash, if it was ever issued."""
    statement = select(RefreshToken).where(col(RefreshToken.token_hash) == token_hash)
    return (await session.exec(statement)).first()


async def mark_used(*, session: AsyncSession, token_id: uuid.UUID) -> bool:
    """Mark an unused token used; False when another request used it first (the caller commits)."""
    result = await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.id) == token_id, col(RefreshToken.used_at).is_(None))
        .values(used_at=utcnow())
    )
    return bool(result.rowcount)


async def user_with_session(
    *, session: AsyncSession, user_id: uuid.UUID, family_id: uuid.UUID
) -> tuple[User, bool] | None:
    """The user and whether their session family is still live, in one round trip."""
    live = (
        select(col(RefreshToken.id))
        .where(
            col(RefreshToken.family_id) == family_id,
            col(RefreshToken.user_id) == user_id,
            col(RefreshToken.revoked_at).is_(None),
        )
        .exists()
    )
    row = (await session.exec(select(User, live).where(col(User.id) == user_id))).first()
    return None if row is None else (row[0], bool(row[1]))


async def revoke_family(*, session: AsyncSession, family_id: uuid.UUID) -> None:
    """Revoke every token of one family (the caller commits)."""
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_user(*, session: AsyncSession, user_id: uuid.UUID) -> None:
    """Revoke every token of every family of a user (the caller commits)."""
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


async def purge_expired(*, session: AsyncSession, user_id: uuid.UUID) -> None:
    """Delete a user's tokens past their expiry: they can neither refresh nor be reused."""
    await session.exec(
        delete(RefreshToken).where(
            col(RefreshToken.user_id) == user_id, col(RefreshToken.expires_at) < utcnow()
        )
    )
