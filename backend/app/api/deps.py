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
from app.services.auth import sessions
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

# 401 (RFC 6750 invalid_token): the SPA answers it by refreshing once, then going to login.
CREDENTIALS_ERROR = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Could not validate credentials",
    headers={"WWW-Authenticate": "Bearer"},
)


def claims_from_token(token: str) -> TokenPayload:
    """Decode and validate an access token (raises 401 when invalid)."""
    try:
        payload = jwt.decode(
            token,
            settings.SECRET_KEY,
            algorithms=[security.ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
        claims = TokenPayload(**payload)
        uuid.UUID(str(claims.sub))
        return claims
    except (InvalidTokenError, ValidationError, ValueError) as exc:
        raise CREDENTIALS_ERROR from exc


def user_id_from_token(token: str) -> uuid.UUID:
    """The subject of a valid access token (raises 401 when invalid)."""
    return uuid.UUID(str(claims_from_token(token).sub))


def get_token_claims(token: TokenDep) -> TokenPayload:
    """The claims of the request's bearer token (decoded once per request)."""
    return claims_from_token(token)


TokenClaimsDep = Annotated[TokenPayload, Depends(get_token_claims)]


def get_session_id(claims: TokenClaimsDep) -> uuid.UUID:
    """The session (`sid`) a valid access token belongs to; tokens without one are refused."""
    if claims.sid is None:
        raise CREDENTIALS_ERROR
    return claims.sid


SessionIdDep = Annotated[uuid.UUID, Depends(get_session_id)]


async def get_current_user(session: SessionDep, claims: TokenClaimsDep, sid: SessionIdDep) -> User:
    """The active user the bearer token belongs to, while its session is live."""
    # The session is checked per request (read with the user, one round trip) rather than a
    # per-user `sessions_valid_after`: that alone could not end one device's session on logout.
    found = await sessions.user_for_session(
        session, user_id=uuid.UUID(str(claims.sub)), session_id=sid
    )
    if found is None:
        raise HTTPException(status_code=404, detail="User not found")
    user, live = found
    if not user.is_active:
        raise HTTPException(status_code=400, detail="Inactive user")
    if not live:
        raise CREDENTIALS_ERROR
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
