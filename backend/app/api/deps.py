"""Request dependencies as `Annotated` aliases: SessionDep, TokenDep, CurrentUser, RuntimeDep."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from jwt.exceptions import InvalidTokenError
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import security
from app.core.config import settings
from app.core.db import get_session
from app.core.logging import bind_log_context
from app.models import TokenPayload, User
from app.services.runs.runtime import RunRuntime

reusable_oauth2 = OAuth2PasswordBearer(tokenUrl=f"{settings.API_V1_STR}/login/access-token")


async def get_db() -> AsyncIterator[AsyncSession]:
    """A database session for this request."""
    async for session in get_session():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_db)]
# Offsets must fit a 64-bit integer (both databases): anything larger is bad input (422), not a 500.
MAX_OFFSET = 2**63 - 1
SkipQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
TokenDep = Annotated[str, Depends(reusable_oauth2)]

CREDENTIALS_ERROR = HTTPException(
    status_code=status.HTTP_403_FORBIDDEN,
    detail="Could not validate credentials",
)


def user_id_from_token(token: str) -> uuid.UUID:
    """Decode and validate an access token; return its subject (raises 403 when invalid)."""
    try:
        payload = jwt.decode(
            token,
            settings.SECRET_KEY,
            algorithms=[security.ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
        token_data = TokenPayload(**payload)
        return uuid.UUID(str(token_data.sub))
    except (InvalidTokenError, ValidationError, ValueError) as exc:
        raise CREDENTIALS_ERROR from exc


async def get_current_user(session: SessionDep, token: TokenDep) -> User:
    """The active user the bearer token belongs to."""
    user = await session.get(User, user_id_from_token(token))
    if not user:
        raise HTTPException(status_code=404, detail="User not found")
    if not user.is_active:
        raise HTTPException(status_code=400, detail="Inactive user")
    bind_log_context(user_id=user.id)
    # End the read transaction so the connection goes back to the pool: agent requests can
    # stream for minutes and must not pin a connection meanwhile (objects stay loaded).
    await session.commit()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_current_active_superuser(current_user: CurrentUser) -> User:
    """The current user, who must be a superuser."""
    if not current_user.is_superuser:
        raise HTTPException(status_code=403, detail="The user doesn't have enough privileges")
    return current_user


CurrentSuperuser = Annotated[User, Depends(get_current_active_superuser)]


def get_runtime(request: Request) -> RunRuntime:
    """The process's run layer (opened in the lifespan)."""
    runtime: RunRuntime = request.app.state.runs
    return runtime


RuntimeDep = Annotated[RunRuntime, Depends(get_runtime)]
