"""User data access."""

import uuid
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.security import DUMMY_HASH, hash_password_async, verify_password_async
from app.crud.errors import UNIQUE_MESSAGES, AlreadyExistsError
from app.crud.refresh_token import revoke_user
from app.models import User, UserCreate, UserUpdate, UserUpdateMe


async def _check_email_free(
    session: AsyncSession, email: str, user_id: uuid.UUID | None = None
) -> None:
    """Emails are unique regardless of case; the unique index decides a race between two writes."""
    existing = await get_user_by_email(session=session, email=email)
    if existing is not None and existing.id != user_id:
        raise AlreadyExistsError(UNIQUE_MESSAGES["ix_user_email"])


async def create_user(*, session: AsyncSession, user_create: UserCreate) -> User:
    """Insert a user with a hashed password (AlreadyExistsError when the email is taken)."""
    await _check_email_free(session, user_create.email)
    hashed = await hash_password_async(user_create.password)
    db_obj = User.model_validate(user_create, update={"hashed_password": hashed})
    session.add(db_obj)
    await session.commit()
    await session.refresh(db_obj)
    return db_obj


async def update_user(
    *, session: AsyncSession, db_user: User, user_in: UserUpdate | UserUpdateMe
) -> User:
    """Apply a partial update, re-hashing the password when one is given.

    A new password or a deactivation revokes every session of the user.
    """
    user_data = user_in.model_dump(exclude_unset=True)
    if user_data.get("email"):
        await _check_email_free(session, user_data["email"], db_user.id)
    extra_data: dict[str, Any] = {}
    if password := user_data.pop("password", None):
        extra_data["hashed_password"] = await hash_password_async(password)
    db_user.sqlmodel_update(user_data, update=extra_data)
    session.add(db_user)
    if password or user_data.get("is_active") is False:
        await revoke_user(session=session, user_id=db_user.id)
    await session.commit()
    await session.refresh(db_user)
    return db_user


async def get_user_by_email(*, session: AsyncSession, email: str) -> User | None:
    """Find a user by email (case-insensitive: emails are stored lower-case; uses the index)."""
    statement = select(User).where(col(User.email) == email.lower())
    return (await session.exec(statement)).first()


async def get_user(*, session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """Find a user by id."""
    return await session.get(User, user_id)


async def list_users(*, session: AsyncSession, skip: int, limit: int) -> tuple[list[User], int]:
    """A page of users, oldest first, and the total count."""
    count = (await session.exec(select(func.count()).select_from(User))).one()
    statement = select(User).order_by(col(User.created_at)).offset(skip).limit(limit)
    return list((await session.exec(statement)).all()), count


async def authenticate(*, session: AsyncSession, email: str, password: str) -> User | None:
    """Return the user when the password matches; upgrade outdated hashes on the way."""
    db_user = await get_user_by_email(session=session, email=email)
    if not db_user:
        # Same cost as a real check, so response time doesn't reveal which emails exist.
        await verify_password_async(password, DUMMY_HASH)
        return None
    verified, updated_hash = await verify_password_async(password, db_user.hashed_password)
    if not verified:
        return None
    if updated_hash:
        db_user.hashed_password = updated_hash
        session.add(db_user)
        await session.commit()
        await session.refresh(db_user)
    return db_user
