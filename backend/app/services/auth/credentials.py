"""Who presented these credentials: a personal API key or a bearer access token.

For callers outside FastAPI's dependency system (the MCP endpoint); it resolves exactly as
`CurrentUserOrApiKey` does (the key wins over the token; a token needs its live session),
answering None instead of raising HTTP errors.
"""

import uuid

import jwt
from jwt.exceptions import InvalidTokenError
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import security
from app.core.config import settings
from app.models import TokenPayload, User
from app.services.auth import api_keys, sessions
from app.services.auth.errors import ApiKeyRejectedError


def decode_access_token(token: str) -> TokenPayload | None:
    """The claims of a valid, unexpired access token whose subject is a user id; else None."""
    try:
        payload = jwt.decode(
            token,
            settings.SECRET_KEY,
            algorithms=[security.ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
        claims = TokenPayload(**payload)
        uuid.UUID(str(claims.sub))
    except (InvalidTokenError, ValidationError, ValueError):
        return None
    return claims


async def user_for_credentials(
    session: AsyncSession, *, api_key: str | None, bearer: str | None
) -> User | None:
    """The active user of a live API key, else of a bearer token whose session is live."""
    if api_key is not None:
        try:
            user = await api_keys.user_for_key(session, api_key)
        except ApiKeyRejectedError:
            return None
    elif bearer:
        claims = decode_access_token(bearer)
        if claims is None or claims.sid is None:
            return None
        found = await sessions.user_for_session(
            session, user_id=uuid.UUID(str(claims.sub)), session_id=claims.sid
        )
        if found is None or not found[1]:
            return None
        user = found[0]
    else:
        return None
    return user if user.is_active else None
