"""The per-account login throttle: exponential back-off after a few failures, in the database.

Keyed by the email as typed (known or not), so a locked address reveals nothing about whether
an account exists, and independent of the client's IP and of Redis. An attempt is counted
*before* the password is checked (compare-and-set on the counter), so a burst of concurrent
guesses can't slip past the lock; a successful login forgets the count.
"""

import math
from datetime import datetime, timedelta
from html import escape

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import security
from app.core.config import settings
from app.core.db import SessionMaker
from app.core.email import EmailData, send_email
from app.crud import login_throttle as crud_throttle
from app.crud import user as crud_user
from app.models import utcnow
from app.services.auth.errors import LoginThrottledError

logger = structlog.get_logger(__name__)
_CAS_ATTEMPTS = 5


def backoff_seconds(attempt: int) -> float:
    """The lock that follows the `attempt`-th attempt in a row: 0, then base × 2^k, capped."""
    over = attempt - settings.LOGIN_THROTTLE_FREE_ATTEMPTS
    if over < 0:
        return 0.0
    delay = settings.LOGIN_THROTTLE_BASE_SECONDS * float(2**over)
    return float(min(settings.LOGIN_THROTTLE_MAX_SECONDS, delay))


def _lock_after(attempt: int, now: datetime) -> datetime | None:
    seconds = backoff_seconds(attempt)
    return now + timedelta(seconds=seconds) if seconds else None


async def count_attempt(session: AsyncSession, email: str) -> int:
    """Count one login attempt for `email` and return its number in the current streak.

    Raises LoginThrottledError while the address is locked. Returns 0 when the throttle is off.
    """
    if not settings.LOGIN_THROTTLE_ENABLED:
        return 0
    key = security.email_key(email)
    for _ in range(_CAS_ATTEMPTS):
        now = utcnow()
        row = await crud_throttle.get_throttle(session=session, key=key)
        if row is None:
            if await crud_throttle.insert_first(
                session=session, key=key, now=now, locked_until=_lock_after(1, now)
            ):
                return 1
            continue
        if row.locked_until is not None and row.locked_until > now:
            wait = (row.locked_until - now).total_seconds()
            await session.commit()
            raise LoginThrottledError(max(1, math.ceil(wait)))
        stale = now - row.last_attempt_at > timedelta(seconds=settings.LOGIN_THROTTLE_RESET_SECONDS)
        attempt = 1 if stale else row.failures + 1
        if await crud_throttle.compare_and_count(
            session=session,
            key=key,
            expected_failures=row.failures,
            failures=attempt,
            now=now,
            locked_until=_lock_after(attempt, now),
        ):
            return attempt
    # Lost every race: other attempts for this address are in flight right now.
    raise LoginThrottledError(1)


async def forget_attempts(session: AsyncSession, email: str) -> None:
    """A successful login: the streak of failures is over (the caller commits)."""
    if settings.LOGIN_THROTTLE_ENABLED:
        await crud_throttle.forget(session=session, key=security.email_key(email))
        stale = utcnow() - timedelta(seconds=settings.LOGIN_THROTTLE_RESET_SECONDS)
        await crud_throttle.purge_stale(session=session, before=stale)


def should_notify(attempt: int) -> bool:
    """True for the one failed attempt that triggers the owner's warning email."""
    return 0 < settings.LOGIN_FAILURE_EMAIL_AFTER == attempt


def failed_logins_email(email_to: str, failures: int, client_ip: str) -> EmailData:
    """The warning sent to an account's owner after repeated failed logins."""
    link = f"{settings.FRONTEND_HOST}/recover-password"
    subject = f"{settings.PROJECT_NAME} - Failed login attempts on your account"
    text = (
        f"There were {failures} failed attempts to log in to {email_to} in a row "
        f"(the latest from {client_ip}).\n"
        "Further attempts are slowed down. If this wasn't you, consider changing your "
        f"password: {link}"
    )
    html = (
        f"<p>There were {failures} failed attempts to log in to {escape(email_to)} in a row "
        f"(the latest from {escape(client_ip)}).</p>"
        "<p>Further attempts are slowed down. If this wasn't you, consider "
        f'<a href="{escape(link)}">changing your password</a>.</p>'
    )
    return EmailData(subject=subject, html_content=html, text_content=text)


async def notify_owner(email: str, failures: int, client_ip: str) -> None:
    """Email the account's owner, if the address has an account (run after the response)."""
    try:
        async with SessionMaker() as session:
            user = await crud_user.get_user_by_email(session=session, email=email)
        if user is None:
            return
        await send_email(
            email_to=user.email, data=failed_logins_email(user.email, failures, client_ip)
        )
    except Exception as exc:  # a background task: log, never raise into the server
        logger.warning("login.notify_failed", error_type=type(exc).__name__, error=str(exc))
