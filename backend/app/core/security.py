"""Password hashing (pwdlib: Argon2, bcrypt accepted and upgraded), JWT access tokens, the
opaque refresh and CSRF tokens, and personal API keys."""

import asyncio
import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from app.core.config import settings

ALGORITHM = "HS256"
password_hash = PasswordHash(
    (
        Argon2Hasher(
            time_cost=settings.PASSWORD_HASH_TIME_COST,
            memory_cost=settings.PASSWORD_HASH_MEMORY_KIB,
        ),
        BcryptHasher(),
    )
)
# Verified against when the email is unknown, so both paths cost one Argon2 verification.
DUMMY_HASH = password_hash.hash(str(uuid.uuid4()))


def create_access_token(
    subject: str | Any, expires_delta: timedelta, session_id: uuid.UUID | None = None
) -> str:
    """Sign a JWT whose `sub` is the user id and `sid` the session (refresh-token family)."""
    now = datetime.now(UTC)
    payload: dict[str, Any] = {"exp": now + expires_delta, "iat": now, "sub": str(subject)}
    if session_id is not None:
        payload["sid"] = str(session_id)
    return jwt.encode(payload, settings.SECRET_KEY, algorithm=ALGORITHM)


def new_opaque_token() -> str:
    """A random URL-safe token (refresh and CSRF tokens): 256 bits."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """The stored form of a refresh token: SHA-256 is enough for 256 random bits (no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


API_KEY_PREFIX = "fsk_"
# What lists show of a key: the marker plus 8 random characters (48 bits, unique enough to tell
# keys apart and far too short to guess the rest).
API_KEY_SHOWN_CHARS = len(API_KEY_PREFIX) + 8


def new_api_key() -> str:
    """A personal API key: a recognisable marker (secret scanners, logs) and 256 random bits."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The stored form of an API key: like refresh tokens, 256 random bits need no slow hash."""
    return hashlib.sha256(key.encode()).hexdigest()


def email_key(email: str) -> str:
    """A keyed hash of an email (login throttle rows don't store addresses in the clear)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), email.strip().lower().encode(), "sha256")
    return digest.hexdigest()


def tokens_match(first: str, second: str) -> bool:
    """Constant-time comparison of two tokens (both must be non-empty)."""
    return bool(first) and bool(second) and hmac.compare_digest(first.encode(), second.encode())


def verify_password(plain_password: str, hashed_password: str) -> tuple[bool, str | None]:
    """Check a password; return (valid, new hash when the stored one should be upgraded)."""
    return password_hash.verify_and_update(plain_password, hashed_password)


def get_password_hash(password: str) -> str:
    """Hash a password with the preferred hasher (Argon2)."""
    return password_hash.hash(password)


async def hash_password_async(password: str) -> str:
    """`get_password_hash` off the event loop (Argon2 costs tens of ms of CPU)."""
    return await asyncio.to_thread(get_password_hash, password)


async def verify_password_async(
    plain_password: str, hashed_password: str
) -> tuple[bool, str | None]:
    """`verify_password` off the event loop."""
    return await asyncio.to_thread(verify_password, plain_password, hashed_password)
