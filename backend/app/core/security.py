"""Password hashing (pwdlib: Argon2, bcrypt accepted and upgraded) and JWT access tokens."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from app.core.config import settings

ALGORITHM = "HS256"
password_hash = PasswordHash((Argon2Hasher(), BcryptHasher()))
# Verified against when the email is unknown, so both paths cost one Argon2 verification.
DUMMY_HASH = password_hash.hash(str(uuid.uuid4()))


def create_access_token(subject: str | Any, expires_delta: timedelta) -> str:
    """Sign a JWT whose `sub` is the user id."""
    expire = datetime.now(UTC) + expires_delta
    payload = {"exp": expire, "sub": str(subject)}
    return jwt.encode(payload, settings.SECRET_KEY, algorithm=ALGORITHM)


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
