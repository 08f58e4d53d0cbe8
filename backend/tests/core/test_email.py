"""Outgoing email over real SMTP (aiosmtpd on loopback) when SMTP is configured."""

import email
from collections.abc import Iterator
from email.message import Message

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from app.core.config import settings
from app.core.email import (
    generate_password_reset_token,
    generate_reset_password_email,
    verify_password_reset_token,
)
from tests.support.postgres import free_port
from tests.utils import API, create_user


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append((envelope, email.message_from_bytes(content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP server on a free loopback port, and settings pointing at it."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(settings, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setattr(settings, "SMTP_PORT", port)
    monkeypatch.setattr(settings, "SMTP_TLS", False)
    monkeypatch.setattr(settings, "SMTP_SSL", False)
    monkeypatch.setattr(settings, "SMTP_USER", None)
    monkeypatch.setattr(settings, "SMTP_PASSWORD", None)
    monkeypatch.setattr(settings, "EMAILS_FROM_EMAIL", "no-reply@example.com")
    monkeypatch.setattr(settings, "EMAILS_FROM_NAME", "Template")
    try:
        yield mailbox
    finally:
        controller.stop()


def body_text(message: Message, subtype: str) -> str:
    """The decoded text/`subtype` part of a multipart message."""
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError(f"no text/{subtype} part")


async def test_password_recovery_is_sent_over_smtp(
    client: httpx.AsyncClient, smtp_server: Mailbox
) -> None:
    user, _ = await create_user()
    response = await client.post(f"{API}/password-recovery/{user.email}")
    assert response.status_code == 200
    assert len(smtp_server.messages) == 1
    envelope, message = smtp_server.messages[0]
    assert envelope.rcpt_tos == [user.email]
    assert message["To"] == user.email
    assert message["From"] == "Template <no-reply@example.com>"
    assert "Password recovery" in message["Subject"]
    text = body_text(message, "plain")
    token = text.split("reset-password?token=")[1].split()[0]
    assert verify_password_reset_token(token) == user.email
    assert "reset-password?token=" in body_text(message, "html")

    reset = await client.post(
        f"{API}/reset-password/", json={"token": token, "new_password": "a-brand-new-password"}
    )
    assert reset.status_code == 200


async def test_no_email_is_sent_for_an_unknown_address(
    client: httpx.AsyncClient, smtp_server: Mailbox
) -> None:
    response = await client.post(f"{API}/password-recovery/nobody@example.com")
    assert response.status_code == 200
    assert smtp_server.messages == []


async def test_new_account_email_over_smtp(
    client: httpx.AsyncClient, smtp_server: Mailbox, superuser_token_headers: dict[str, str]
) -> None:
    response = await client.post(
        f"{API}/users/",
        headers=superuser_token_headers,
        json={"email": "welcome@example.com", "password": "a-long-password"},
    )
    assert response.status_code == 200
    assert [envelope.rcpt_tos for envelope, _ in smtp_server.messages] == [["welcome@example.com"]]


def test_reset_email_escapes_html() -> None:
    data = generate_reset_password_email('a"<b>@example.com', "tok")
    assert "<b>" not in data.html_content
    assert "&lt;b&gt;" in data.html_content


def test_reset_token_round_trip_and_purpose() -> None:
    token = generate_password_reset_token("someone@example.com")
    assert verify_password_reset_token(token) == "someone@example.com"
    assert verify_password_reset_token(token + "x") is None
