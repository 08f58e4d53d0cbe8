"""Outgoing email: SMTP when configured, otherwise written to the log (local and tests)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html import escape

import aiosmtplib
import jwt
import structlog
from jwt.exceptions import InvalidTokenError

from app.core import security
from app.core.config import settings

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class EmailData:
    """A rendered email."""

    subject: str
    html_content: str
    text_content: str


async def send_email(*, email_to: str, data: EmailData) -> None:
    """Send over SMTP, or log the email (with its text body) when SMTP isn't configured."""
    if not settings.emails_enabled:
        logger.info("email.logged", to=email_to, subject=data.subject, body=data.text_content)
        return
    message = EmailMessage()
    message["From"] = (
        f"{settings.EMAILS_FROM_NAME or settings.PROJECT_NAME} <{settings.EMAILS_FROM_EMAIL}>"
    )
    message["To"] = email_to
    message["Subject"] = data.subject
    message.set_content(data.text_content)
    message.add_alternative(data.html_content, subtype="html")
    await aiosmtplib.send(
        message,
        hostname=settings.SMTP_HOST,
        port=settings.SMTP_PORT,
        username=settings.SMTP_USER,
        password=settings.SMTP_PASSWORD,
        start_tls=settings.SMTP_TLS and not settings.SMTP_SSL,
        use_tls=settings.SMTP_SSL,
        timeout=15,
    )
    logger.info("email.sent", to=email_to, subject=data.subject)


def generate_reset_password_email(email_to: str, token: str) -> EmailData:
    """The password-recovery email with a link to the frontend's reset page."""
    link = f"{settings.FRONTEND_HOST}/reset-password?token={token}"
    hours = settings.EMAIL_RESET_TOKEN_EXPIRE_HOURS
    subject = f"{settings.PROJECT_NAME} - Password recovery for {email_to}"
    text = (
        f"We received a request to recover the password for {email_to}.\n"
        f"Reset it here (valid for {hours} hours): {link}\n"
        "If you didn't ask for this, ignore this email."
    )
    html = (
        f"<p>We received a request to recover the password for {escape(email_to)}.</p>"
        f'<p><a href="{escape(link)}">Reset your password</a> (valid for {hours} hours).</p>'
        "<p>If you didn't ask for this, ignore this email.</p>"
    )
    return EmailData(subject=subject, html_content=html, text_content=text)


def generate_new_account_email(email_to: str, username: str) -> EmailData:
    """The welcome email sent when a superuser creates an account."""
    subject = f"{settings.PROJECT_NAME} - New account for {username}"
    text = (
        f"An account was created for {username} ({email_to}). Log in at {settings.FRONTEND_HOST}."
    )
    html = f"<p>An account was created for {escape(username)}.</p>"
    return EmailData(subject=subject, html_content=html, text_content=text)


def generate_password_reset_token(email: str) -> str:
    """A JWT, valid EMAIL_RESET_TOKEN_EXPIRE_HOURS, that lets its holder reset one password."""
    now = datetime.now(UTC)
    expires = now + timedelta(hours=settings.EMAIL_RESET_TOKEN_EXPIRE_HOURS)
    payload = {"exp": expires, "nbf": now, "sub": email, "purpose": "password-reset"}
    return jwt.encode(payload, settings.SECRET_KEY, algorithm=security.ALGORITHM)


def verify_password_reset_token(token: str) -> str | None:
    """The email a reset token was issued for, or None when it's invalid or expired."""
    try:
        decoded = jwt.decode(token, settings.SECRET_KEY, algorithms=[security.ALGORITHM])
    except InvalidTokenError:
        return None
    if decoded.get("purpose") != "password-reset":
        return None
    return str(decoded["sub"])
