"""Request dependencies as `Annotated` aliases: SessionDep, TokenDep, CurrentUser,
CurrentUserOrApiKey, RuntimeDep."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import settings
from app.core.db import get_session
from app.core.logging import bind_log_context
from app.crud.pages import Cursor, InvalidCursorError
from app.models import TokenPayload, User
from app.services.auth import api_keys, sessions
from app.services.auth.credentials import decode_access_token
from app.services.auth.session_cache import session_cache
from app.services.runs.runtime import RunRuntime

reusable_oauth2 = OAuth2PasswordBearer(tokenUrl=f"{settings.API_V1_STR}/login/access-token")
# The same scheme without its own 401, for routes that also accept an API key.
optional_oauth2 = OAuth2PasswordBearer(
    tokenUrl=f"{settings.API_V1_STR}/login/access-token", auto_error=False
)
API_KEY_HEADER = "X-Api-Key"
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="A personal API key (create one in Settings or with POST /api/v1/api-keys).",
)


async def get_db() -> AsyncIterator[AsyncSession]:
    """A database session for this request."""
    async for session in get_session():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_db)]
# Offsets must fit a 64-bit integer (both databases): anything larger is bad input (422), not a 500.
MAX_OFFSET = 2**63 - 1
SkipQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
TokenDep = Annotated[str, Depends(reusable_oauth2)]


# The dependencies are `async def` though they never await: FastAPI runs a plain `def` one in
# its thread pool, a hand-off per dependency per request for microseconds of work.
async def get_cursor(
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="`next_cursor` of the previous page (fast at any depth; `skip` is "
            "kept for compatibility and slows down on deep pages)",
        ),
    ] = None,
) -> Cursor | None:
    """The page cursor a list request continues from (400 when it isn't one)."""
    if cursor is None:
        return None
    try:
        return Cursor.decode(cursor)
    except InvalidCursorError:
        raise HTTPException(status_code=400, detail="Invalid cursor") from None


CursorQuery = Annotated[Cursor | None, Depends(get_cursor)]

# 401 (RFC 6750 invalid_token): the SPA answers it by refreshing once, then going to login.
CREDENTIALS_ERROR = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Could not validate credentials",
    headers={"WWW-Authenticate": "Bearer"},
)


def claims_from_token(token: str) -> TokenPayload:
    """Decode and validate an access token (raises 401 when invalid)."""
    claims = decode_access_token(token)
    if claims is None:
        raise CREDENTIALS_ERROR
    return claims


def user_id_from_token(token: str) -> uuid.UUID:
    """The subject of a valid access token (raises 401 when invalid)."""
    return uuid.UUID(str(claims_from_token(token).sub))


async def get_token_claims(token: TokenDep) -> TokenPayload:
    """The claims of the request's bearer token (decoded once per request)."""
    return claims_from_token(token)


TokenClaimsDep = Annotated[TokenPayload, Depends(get_token_claims)]


async def get_session_id(claims: TokenClaimsDep) -> uuid.UUID:
    """The session (`sid`) a valid access token belongs to; tokens without one are refused."""
    if claims.sid is None:
        raise CREDENTIALS_ERROR
    return claims.sid


SessionIdDep = Annotated[uuid.UUID, Depends(get_session_id)]


async def user_for_claims(session: AsyncSession, claims: TokenPayload) -> User:
    """The active user a valid access token belongs to, while its session is live."""
    if claims.sid is None:
        raise CREDENTIALS_ERROR
    user_id = uuid.UUID(str(claims.sub))
    cached = session_cache.get(user_id, claims.sid)
    if cached is not None:
        # Attached to this request's session as it was loaded: no query.
        user = await session.merge(cached, load=False)
        bind_log_context(user_id=user.id)
        return user
    generation = session_cache.generation
    # The session is checked per request (read with the user, one round trip) rather than a
    # per-user `sessions_valid_after`: that alone could not end one device's session on logout.
    found = await sessions.user_for_session(session, user_id=user_id, session_id=claims.sid)
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
    session_cache.put(user, claims.sid, generation)
    return user


async def get_current_user(session: SessionDep, claims: TokenClaimsDep) -> User:
    """The active user the bearer token belongs to, while its session is live."""
    return await user_for_claims(session, claims)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_current_active_superuser(current_user: CurrentUser) -> User:
    """The current user, who must be a superuser."""
    if not current_user.is_superuser:
        raise HTTPException(status_code=403, detail="The user doesn't have enough privileges")
    return current_user


CurrentSuperuser = Annotated[User, Depends(get_current_active_superuser)]


async def get_user_from_token_or_api_key(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str | None, Depends(api_key_header)],
    token: Annotated[str | None, Depends(optional_oauth2)],
) -> User:
    """The user of the request's `X-Api-Key` when it has one, else of its bearer token.

    Also leaves the user's id in `request.state.user_id`, where per-user rate limits find it.
    """
    if api_key is not None:
        user = await api_keys.user_for_key(session, api_key)  # ApiKeyRejectedError: 401
        if not user.is_active:
            raise HTTPException(status_code=400, detail="Inactive user")
        bind_log_context(user_id=user.id)
        await session.commit()  # as in user_for_claims: don't pin a connection while streaming
    elif token:
        user = await user_for_claims(session, claims_from_token(token))
    else:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.user_id = user.id
    return user


# Bearer JWT or personal API key: for the APIs external clients call (never for managing keys).
CurrentUserOrApiKey = Annotated[User, Depends(get_user_from_token_or_api_key)]


async def get_runtime(request: Request) -> RunRuntime:
    """The process's run layer (opened in the lifespan)."""
    runtime: RunRuntime = request.app.state.runs
    return runtime


RuntimeDep = Annotated[RunRuntime, Depends(get_runtime)]
