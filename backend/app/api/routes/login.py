"""Login, token check, password recovery and reset."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import CurrentUser, SessionDep
from app.api.errors import authenticated_responses, error_responses
from app.core import security
from app.core.config import settings
from app.core.email import (
    generate_password_reset_token,
    generate_reset_password_email,
    send_email,
    verify_password_reset_token,
)
from app.core.rate_limit import login_rate_limit, password_rate_limit
from app.crud import user as crud_user
from app.models import Message, NewPassword, Token, UserPublic
from app.models.storable import StorableText

router = APIRouter(tags=["login"])


@router.post(
    "/login/access-token",
    dependencies=[Depends(login_rate_limit)],
    responses=error_responses(400, 429),
)
async def login_access_token(
    session: SessionDep, form_data: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token:
    """OAuth2 compatible token login: get an access token for future requests."""
    user = await crud_user.authenticate(
        session=session, email=form_data.username, password=form_data.password
    )
    if not user:
        raise HTTPException(status_code=400, detail="Incorrect email or password")
    if not user.is_active:
        raise HTTPException(status_code=400, detail="Inactive user")
    expires = timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
    return Token(access_token=security.create_access_token(user.id, expires_delta=expires))


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
    """Reset a password with the token from the recovery email."""
    email = verify_password_reset_token(token=body.token)
    user = await crud_user.get_user_by_email(session=session, email=email) if email else None
    if not user:
        raise HTTPException(status_code=400, detail="Invalid or expired token")
    if not user.is_active:
        raise HTTPException(status_code=400, detail="Inactive user")
    user.hashed_password = await security.hash_password_async(body.new_password)
    session.add(user)
    await session.commit()
    return Message(message="Password updated successfully")
