"""User models: table, API input and output shapes."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, EmailStr, field_validator
from sqlmodel import Field, Relationship, SQLModel

from app.models.common import created_at_field, reject_null
from app.models.storable import StorableText

if TYPE_CHECKING:
    from app.models.item import Item

# Stored lower-case: the unique index then makes emails unique regardless of case (migration 0006).
Email = Annotated[EmailStr, AfterValidator(str.lower)]


class UserBase(SQLModel):
    """Fields shared by every user shape."""

    email: Email = Field(unique=True, index=True, max_length=255)
    is_active: bool = True
    is_superuser: bool = False
    full_name: StorableText | None = Field(default=None, max_length=255)


class UserCreate(UserBase):
    """What a superuser sends to create a user."""

    password: StorableText = Field(min_length=8, max_length=128)


class UserRegister(SQLModel):
    """What anyone sends to sign up."""

    email: Email = Field(max_length=255)
    password: StorableText = Field(min_length=8, max_length=128)
    full_name: StorableText | None = Field(default=None, max_length=255)


class UserUpdate(UserBase):
    """What a superuser sends to change a user (all optional)."""

    email: Email | None = Field(default=None, max_length=255)  # type: ignore[assignment]
    password: StorableText | None = Field(default=None, min_length=8, max_length=128)

    _email_not_null = field_validator("email")(reject_null)


class UserUpdateMe(SQLModel):
    """What a user sends to change their own profile."""

    full_name: StorableText | None = Field(default=None, max_length=255)
    email: Email | None = Field(default=None, max_length=255)

    _email_not_null = field_validator("email")(reject_null)


class UpdatePassword(SQLModel):
    """What a user sends to change their own password."""

    current_password: StorableText = Field(min_length=8, max_length=128)
    new_password: StorableText = Field(min_length=8, max_length=128)


class User(UserBase, table=True):
    """A user row."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    hashed_password: str
    created_at: datetime = created_at_field()
    items: list["Item"] = Relationship(back_populates="owner", cascade_delete=True)


class UserPublic(UserBase):
    """A user as the API returns it (no password hash)."""

    id: uuid.UUID
    created_at: datetime | None = None


class UsersPublic(SQLModel):
    """A page of users."""

    data: list[UserPublic]
    count: int
