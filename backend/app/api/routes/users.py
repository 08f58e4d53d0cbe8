"""Users: signup, the current user's profile, and superuser administration."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import StreamingResponse

from app.api.deps import (
    CurrentSuperuser,
    CurrentUser,
    RuntimeDep,
    SessionDep,
    SkipQuery,
    get_current_active_superuser,
)
from app.api.errors import authenticated_responses, error_responses
from app.api.rate_limit import export_rate_limit, signup_rate_limit
from app.api.session_cookies import set_session_cookies
from app.core.config import settings
from app.core.email import generate_new_account_email, send_email
from app.core.security import hash_password_async, verify_password_async
from app.crud import user as crud_user
from app.models import (
    Message,
    UpdatePassword,
    User,
    UserCreate,
    UserPublic,
    UserRegister,
    UsersPublic,
    UserUpdate,
    UserUpdateMe,
)
from app.services.account_erase import erase_account
from app.services.auth import sessions
from app.services.data_export import build_export, stream_file

router = APIRouter(prefix="/users", tags=["users"], responses=authenticated_responses())


@router.get("/", dependencies=[Depends(get_current_active_superuser)], response_model=UsersPublic)
async def read_users(
    session: SessionDep,
    skip: SkipQuery = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Retrieve users."""
    users, count = await crud_user.list_users(session=session, skip=skip, limit=limit)
    return UsersPublic(data=[UserPublic.model_validate(u) for u in users], count=count)


@router.post("/", response_model=UserPublic, responses=error_responses(409))
async def create_user(
    *, session: SessionDep, user_in: UserCreate, _superuser: CurrentSuperuser
) -> Any:
    """Create a new user."""
    user = await crud_user.create_user(session=session, user_create=user_in)
    await send_email(email_to=user.email, data=generate_new_account_email(user.email, user.email))
    return user


@router.patch("/me", response_model=UserPublic, responses=error_responses(409))
async def update_user_me(
    *, session: SessionDep, user_in: UserUpdateMe, current_user: CurrentUser
) -> Any:
    """Update own user."""
    return await crud_user.update_user(session=session, db_user=current_user, user_in=user_in)


@router.patch("/me/password")
async def update_password_me(
    *, session: SessionDep, body: UpdatePassword, current_user: CurrentUser, response: Response
) -> Message:
    """Update own password; every session ends, and this device gets a new one."""
    verified, _ = await verify_password_async(body.current_password, current_user.hashed_password)
    if not verified:
        raise HTTPException(status_code=400, detail="Incorrect password")
    if body.current_password == body.new_password:
        raise HTTPException(
            status_code=400, detail="New password cannot be the same as the current one"
        )
    current_user.hashed_password = await hash_password_async(body.new_password)
    session.add(current_user)
    await sessions.end_all_sessions(session, current_user.id)
    await session.commit()
    # Every session ended; this device gets a new one (the SPA's next refresh picks it up).
    issued = await sessions.start_session(session, current_user.id)
    set_session_cookies(response, issued.refresh_token)
    return Message(message="Password updated successfully")


@router.get("/me", response_model=UserPublic)
async def read_user_me(current_user: CurrentUser) -> Any:
    """Get current user."""
    return current_user


@router.get(
    "/me/export",
    response_class=StreamingResponse,
    dependencies=[Depends(export_rate_limit)],
    responses={
        200: {"content": {"application/zip": {}}, "description": "A zip of JSON files."},
        **error_responses(429),
    },
)
async def export_user_me(
    session: SessionDep, current_user: CurrentUser, runtime: RuntimeDep
) -> StreamingResponse:
    """Download everything the app holds about you, as JSON files in a zip."""
    file = await build_export(session, runtime.agent, current_user)
    stamp = current_user.id.hex[:8]
    return StreamingResponse(
        stream_file(file),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="my-data-{stamp}.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.delete("/me")
async def delete_user_me(
    session: SessionDep, current_user: CurrentUser, runtime: RuntimeDep
) -> Message:
    """Delete own user, with their threads, checkpoints, runs and traces."""
    if current_user.is_superuser:
        raise HTTPException(
            status_code=403, detail="Super users are not allowed to delete themselves"
        )
    await erase_account(session, runtime.agent, current_user)
    return Message(message="User deleted successfully")


@router.post(
    "/signup",
    response_model=UserPublic,
    dependencies=[Depends(signup_rate_limit)],
    responses=error_responses(409, 429),
)
async def register_user(session: SessionDep, user_in: UserRegister) -> Any:
    """Create a new user without the need to be logged in."""
    if not settings.USERS_OPEN_REGISTRATION:
        raise HTTPException(status_code=403, detail="Open user registration is disabled")
    user_create = UserCreate.model_validate(user_in)
    return await crud_user.create_user(session=session, user_create=user_create)


@router.get("/{user_id}", response_model=UserPublic)
async def read_user_by_id(
    user_id: uuid.UUID, session: SessionDep, current_user: CurrentUser
) -> Any:
    """Get a specific user by id."""
    user = await session.get(User, user_id)
    if user and user.id == current_user.id:
        return user
    if not current_user.is_superuser:
        raise HTTPException(status_code=403, detail="The user doesn't have enough privileges")
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    return user


@router.patch("/{user_id}", response_model=UserPublic, responses=error_responses(409))
async def update_user(
    *, session: SessionDep, user_id: uuid.UUID, user_in: UserUpdate, _superuser: CurrentSuperuser
) -> Any:
    """Update a user."""
    db_user = await session.get(User, user_id)
    if not db_user:
        raise HTTPException(status_code=404, detail="The user with this id does not exist")
    return await crud_user.update_user(session=session, db_user=db_user, user_in=user_in)


@router.delete("/{user_id}")
async def delete_user(
    session: SessionDep, current_user: CurrentSuperuser, user_id: uuid.UUID, runtime: RuntimeDep
) -> Message:
    """Delete a user, with their threads, checkpoints, runs and traces."""
    user = await session.get(User, user_id)
    if not user:
        raise HTTPException(status_code=404, detail="User not found")
    if user.id == current_user.id:
        raise HTTPException(
            status_code=403, detail="Super users are not allowed to delete themselves"
        )
    await erase_account(session, runtime.agent, user)
    return Message(message="User deleted successfully")
