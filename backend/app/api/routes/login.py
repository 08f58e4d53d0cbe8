"""Login, sessions (refresh, logout), token check, password recovery and reset.

`POST /login/access-token` is the OAuth2 password flow for API clients and the docs page; it
also sets the SPA's cookies (refresh token, HttpOnly, scoped to `/login/refresh`; CSRF token),
which API clients simply ignore. So the SPA and API clients share one login endpoint.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from starlette.background import BackgroundTask

from app.api.deps import CurrentUser, SessionDep, SessionIdDep
from app.api.errors import authenticated_responses, error_responses
from app.api.rate_limit import login_rate_limit, password_rate_limit
from app.api.session_cookies import (
    REFRESH_COOKIE,
    check_csrf,
    clear_session_cookies,
    set_session_cookies,
)
from app.core import security
from app.core.client_ip import client_ip
from app.core.email import (
    generate_password_reset_token,
    generate_reset_password_email,
    send_email,
    verify_password_reset_token,
)
from app.crud import user as crud_user
from app.models import Message, NewPassword, Token, UserPublic
from app.models.storable import StorableText
from app.services.auth import sessions, throttle

router = APIRouter(tags=["login"])

LOGIN_FAILED = "Incorrect email or password"


@router.post(
    "/login/access-token",
    response_model=Token,
    dependencies=[Depends(login_rate_limit)],
    responses=error_responses(400, 429),
)
async def login_access_token(
    session: SessionDep,
    form_data: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    response: Response,
) -> Any:
    """OAuth2 compatible token login: get an access token (and the SPA's session cookies)."""
    email = form_data.username
    attempt = await throttle.count_attempt(session, email)
    user = await crud_user.authenticate(session=session, email=email, password=form_data.password)
    if not user:
        # The owner's warning is sent after the answer, so its cost doesn't show in the timing.
        notify = (
            BackgroundTask(throttle.notify_owner, email, attempt, client_ip(request))
            if throttle.should_notify(attempt)
            else None
        )
        # One message for an unknown email and a wrong password (timing: see authenticate).
        return JSONResponse(
            status_code=400,
            content={"detail": LOGIN_FAILED, "code": "bad_request"},
            background=notify,
        )
    await throttle.forget_attempts(session, email)
    if not user.is_active:
        await session.commit()
        raise HTTPException(status_code=400, detail="Inactive user")
    issued = await sessions.start_session(session, user.id)
    set_session_cookies(response, issued.refresh_token)
    return Token(access_token=issued.access_token)


@router.post(
    "/login/refresh",
    responses=error_responses(401, 403),
)
async def refresh_access_token(session: SessionDep, request: Request, response: Response) -> Token:
    """Exchange the refresh cookie for a new access token; the refresh token rotates."""
    check_csrf(request)
    issued = await sessions.rotate(session, request.cookies.get(REFRESH_COOKIE))
    set_session_cookies(response, issued.refresh_token)
    return Token(access_token=issued.access_token)


@router.post("/logout", responses=authenticated_responses())
async def logout(session: SessionDep, sid: SessionIdDep, response: Response) -> Message:
    """Log out this device: its session ends and its access tokens stop working."""
    await sessions.end_session(session, sid)
    clear_session_cookies(response)
    return Message(message="Logged out")


@router.post("/logout/all", responses=authenticated_responses())
async def logout_all(session: SessionDep, current_user: CurrentUser, response: Response) -> Message:
    """Log out everywhere: every session of the current user ends."""
    await sessions.end_all_sessions(session, current_user.id)
    await session.commit()
    clear_session_cookies(response)
    return Message(message="Logged out of every session")


@router.post("/login/test-token", response_model=UserPublic, responses=authenticated_responses())
async def test_token(current_user: CurrentUser) -> Any:
    """Test an access token."""
    return current_user


@router.post(
    "/password-recovery/{email}",
    dependencies=[Depends(password_rate_limit)],
    responses=error_responses(404, 429),
)
async def recover_password(
    email: Annotated[StorableText, Path(max_length=255)], session: SessionDep
) -> Message:
    """Send a password-recovery email; the answer is the same whether or not the account exists."""
    user = await crud_user.get_user_by_email(session=session, email=email)
    if user:
        token = generate_password_reset_token(email=user.email)
        await send_email(email_to=user.email, data=generate_reset_password_email(user.email, token))
    return Message(message="If that email is registered, we sent a password recovery link")


@router.post(
    "/reset-password/",
    dependencies=[Depends(password_rate_limit)],
    responses=error_responses(400, 429),
)
async def reset_password(session: SessionDep, body: NewPassword) -> Message:
    """Reset a password with the token from the recovery email; every session ends."""
    email = verify_password_reset_token(token=body.token)
    user = await crud_user.get_user_by_email(session=session, email=email) if email else None
    if not user:
        raise HTTPException(status_code=400, detail="Invalid or expired token")
    if not user.is_active:
        raise HTTPException(status_code=400, detail="Inactive user")
    user.hashed_password = await security.hash_password_async(body.new_password)
    session.add(user)
    await sessions.end_all_sessions(session, user.id)
    await session.commit()
    return Message(message="Password updated successfully")
