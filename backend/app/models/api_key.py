"""Personal API keys: table, API input and output shapes."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Self

from pydantic import model_validator
from sqlmodel import Field, SQLModel

from app.models.common import UTCDateTime, created_at_field, utcnow
from app.models.storable import StorableText

MAX_EXPIRY_DAYS = 3650


class ApiKeyBase(SQLModel):
    """Fields shared by every API key shape."""

    name: StorableText = Field(min_length=1, max_length=100)


class ApiKeyCreate(ApiKeyBase):
    """What a user sends to create a key: a name and at most one way to say when it expires."""

    expires_in_days: int | None = Field(default=None, ge=1, le=MAX_EXPIRY_DAYS)
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _one_expiry_in_range(self) -> Self:
        if self.expires_in_days is not None and self.expires_at is not None:
            raise ValueError("give expires_in_days or expires_at, not both")
        if self.expires_at is not None:
            if self.expires_at.tzinfo is None:
                self.expires_at = self.expires_at.replace(tzinfo=UTC)
            now = utcnow()
            if self.expires_at <= now:
                raise ValueError("expires_at must be in the future")
            if self.expires_at > now + timedelta(days=MAX_EXPIRY_DAYS):
                raise ValueError(f"expires_at must be within {MAX_EXPIRY_DAYS} days")
        return self

    def expiry(self) -> datetime | None:
        """When the key stops working (None: never)."""
        if self.expires_in_days is not None:
            return utcnow() + timedelta(days=self.expires_in_days)
        return self.expires_at


class ApiKey(ApiKeyBase, table=True):
    """One key, stored as a hash of its secret; revoked keys stay listed until the user is gone."""

    __tablename__ = "api_key"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(
        foreign_key="user.id", nullable=False, ondelete="CASCADE", index=True
    )
    # The key's first characters, shown in lists so people can tell their keys apart.
    prefix: str = Field(max_length=16)
    # SHA-256 of the whole key. The secret is 256 random bits, so there is nothing to brute-force
    # and no need for a slow, salted hash (Argon2): a fast hash lets each request find its key
    # with one indexed lookup instead of verifying every candidate.
    key_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = created_at_field()
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKeyPublic(ApiKeyBase):
    """A key as lists show it: never the secret or its hash."""

    id: uuid.UUID
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    """A key just created: the only answer that carries the key itself."""

    key: str


class ApiKeysPublic(SQLModel):
    """A page of the user's keys, newest first."""

    data: list[ApiKeyPublic]
    count: int
