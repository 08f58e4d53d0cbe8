"""Sign-in records: refresh tokens (one row per token, grouped in families) and login throttles."""

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.common import UTCDateTime, created_at_field


class RefreshToken(SQLModel, table=True):
    """One issued refresh token, stored as a hash; its family is one signed-in device."""

    __tablename__ = "refresh_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(
        foreign_key="user.id", nullable=False, ondelete="CASCADE", index=True
    )
    # The session id (`sid` in access tokens): every rotation of one login shares it.
    family_id: uuid.UUID = Field(index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins for one email (known or not), and until when it is locked."""

    __tablename__ = "login_throttle"

    # HMAC of the lower-cased email: the same for unknown addresses, so nothing is enumerable.
    key: str = Field(max_length=64, primary_key=True)
    failures: int = 0
    last_attempt_at: datetime = created_at_field()
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
