"""Sessions: a login starts a refresh-token family; refresh rotates; logout revokes.

Each refresh token is used once. Presenting a used one means it was copied: the whole family
(that device's session) is revoked, so both the thief and the victim must log in again.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import security
from app.core.config import settings
from app.crud import refresh_token as crud_refresh
from app.crud import user as crud_user
from app.models import User, utcnow
from app.services.auth.errors import RefreshRejectedError
from app.services.auth.session_cache import changed


@dataclass(frozen=True)
class IssuedSession:
    """What a login or a refresh hands out: an access token and the next refresh token."""

    access_token: str
    refresh_token: str
    session_id: uuid.UUID


def access_token_for(user_id: uuid.UUID, session_id: uuid.UUID) -> str:
    """A short-lived access token bound to one session."""
    expires = timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
    return security.create_access_token(user_id, expires_delta=expires, session_id=session_id)


def _stage_token(session: AsyncSession, user_id: uuid.UUID, family_id: uuid.UUID) -> str:
    token = security.new_opaque_token()
    crud_refresh.add_token(
        session=session,
        user_id=user_id,
        family_id=family_id,
        token_hash=security.hash_refresh_token(token),
        expires_at=utcnow() + timedelta(days=settings.REFRESH_TOKEN_EXPIRE_DAYS),
    )
    return token


async def start_session(session: AsyncSession, user_id: uuid.UUID) -> IssuedSession:
    """Start a new session (a new family) for a user who just proved who they are."""
    await crud_refresh.purge_expired(session=session, user_id=user_id)
    changed(session, user_id)  # a purged family's access tokens stop working at once
    family_id = uuid.uuid4()
    refresh = _stage_token(session, user_id, family_id)
    await session.commit()
    return IssuedSession(access_token_for(user_id, family_id), refresh, family_id)


async def rotate(session: AsyncSession, refresh_token: str | None) -> IssuedSession:
    """Exchange a refresh token for a new pair; reuse revokes the family (RefreshRejectedError)."""
    if not refresh_token:
        raise RefreshRejectedError()
    row = await crud_refresh.get_by_hash(
        session=session, token_hash=security.hash_refresh_token(refresh_token)
    )
    if row is None:
        raise RefreshRejectedError()
    user_id, family_id = row.user_id, row.family_id
    if row.revoked_at is not None:
        raise RefreshRejectedError()
    usable = row.used_at is None and row.expires_at > utcnow()
    # The conditional update settles a race between two requests with one token: one wins.
    if not usable or not await crud_refresh.mark_used(session=session, token_id=row.id):
        await crud_refresh.revoke_family(session=session, family_id=family_id)
        changed(session, family_id)
        await session.commit()
        raise RefreshRejectedError()
    user = await crud_user.get_user(session=session, user_id=user_id)
    if user is None or not user.is_active:
        await crud_refresh.revoke_family(session=session, family_id=family_id)
        changed(session, family_id)
        await session.commit()
        raise RefreshRejectedError()
    refresh = _stage_token(session, user_id, family_id)
    await session.commit()
    return IssuedSession(access_token_for(user_id, family_id), refresh, family_id)


async def end_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    """Log out one device: revoke its family."""
    await crud_refresh.revoke_family(session=session, family_id=session_id)
    changed(session, session_id)
    await session.commit()


async def end_all_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Log out everywhere: revoke every family of the user (the caller commits)."""
    await crud_refresh.revoke_user(session=session, user_id=user_id)
    changed(session, user_id)


async def user_for_session(
    session: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID
) -> tuple[User, bool] | None:
    """The token's user (None: gone) and whether the session it names is still live."""
    return await crud_refresh.user_with_session(
        session=session, user_id=user_id, family_id=session_id
    )
