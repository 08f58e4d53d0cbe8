"""Shared column types and small API models."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from app.models.storable import StorableText


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime on every backend (SQLite stores naive values: read them as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value  # type: ignore[no-any-return]


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def reject_null(value: Any) -> Any:
    """Validator for optional update fields of NOT NULL columns: omit them, never null (422)."""
    if value is None:
        raise ValueError("may be omitted but not set to null")
    return value


def created_at_field() -> Any:
    """A `created_at` column defaulting to now (UTC)."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime)


class Message(SQLModel):
    """A plain message response."""

    message: str


class Token(SQLModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"


class TokenPayload(SQLModel):
    """The claims we read from an access token."""

    sub: str | None = None
    sid: uuid.UUID | None = None


class NewPassword(SQLModel):
    """A password reset request."""

    token: StorableText
    new_password: StorableText = Field(min_length=8, max_length=128)
