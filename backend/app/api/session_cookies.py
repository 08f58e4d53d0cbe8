"""The SPA's session cookies: the refresh token (HttpOnly, scoped to the refresh path) and the
CSRF token (readable by the SPA, sent back in `X-CSRF-Token`: double-submit)."""

from fastapi import Request, Response

from app.core import security
from app.core.config import settings
from app.services.auth.errors import CsrfError

REFRESH_COOKIE = "refresh_token"
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def refresh_cookie_path() -> str:
    """Browsers send the refresh token to the refresh endpoint only."""
    return f"{settings.API_V1_STR}/login/refresh"


def set_session_cookies(response: Response, refresh_token: str) -> None:
    """Set the refresh cookie and a fresh CSRF cookie (both SameSite=Strict)."""
    max_age = int(settings.REFRESH_TOKEN_EXPIRE_DAYS * 86400)
    secure = settings.auth_cookie_secure
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=max_age,
        path=refresh_cookie_path(),
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE,
        security.new_opaque_token(),
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=False,
        samesite="strict",
    )


def clear_session_cookies(response: Response) -> None:
    """Delete both cookies (a Set-Cookie with the cookie's own path works from any URL)."""
    secure = settings.auth_cookie_secure
    response.delete_cookie(
        REFRESH_COOKIE, path=refresh_cookie_path(), secure=secure, httponly=True, samesite="strict"
    )
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="strict")


def check_csrf(request: Request) -> None:
    """The `X-CSRF-Token` header must equal the CSRF cookie (raises CsrfError)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not security.tokens_match(cookie, header):
        raise CsrfError()
