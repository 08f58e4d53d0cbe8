"""Login-throttle data access: read a row, compare-and-set its counter, forget it."""

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import LoginThrottle


async def get_throttle(*, session: AsyncSession, key: str) -> LoginThrottle | None:
    """The throttle row for a key, read fresh from the database."""
    return await session.get(LoginThrottle, key, populate_existing=True)


async def insert_first(
    *, session: AsyncSession, key: str, now: datetime, locked_until: datetime | None
) -> bool:
    """Insert the row for a first attempt and commit; False when a concurrent request did first."""
    session.add(LoginThrottle(key=key, failures=1, last_attempt_at=now, locked_until=locked_until))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def compare_and_count(
    *,
    session: AsyncSession,
    key: str,
    expected_failures: int,
    failures: int,
    now: datetime,
    locked_until: datetime | None,
) -> bool:
    """Set the counter only if it still holds `expected_failures`, and commit; False otherwise."""
    result = await session.exec(
        update(LoginThrottle)
        .where(
            col(LoginThrottle.key) == key,
            col(LoginThrottle.failures) == expected_failures,
        )
        .values(failures=failures, last_attempt_at=now, locked_until=locked_until)
    )
    await session.commit()
    return bool(result.rowcount)


async def forget(*, session: AsyncSession, key: str) -> None:
    """Drop the row after a successful login (the caller commits)."""
    await session.exec(delete(LoginThrottle).where(col(LoginThrottle.key) == key))


async def purge_stale(*, session: AsyncSession, before: datetime) -> None:
    """Drop rows whose last attempt is older than `before` and that are no longer locked."""
    await session.exec(
        delete(LoginThrottle).where(
            col(LoginThrottle.last_attempt_at) < before,
            (col(LoginThrottle.locked_until).is_(None))
            | (col(LoginThrottle.locked_until) < before),
        )
    )
