"""The one masking function behind Langfuse's mask hook and the log processor."""

import pytest

from app.core.pii import iban_valid, langfuse_mask, luhn_valid, mask_text, mask_value


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to alice.smith+tag@example.co.uk today", "write to [email] today"),
        ("card 4111 1111 1111 1111.", "card [card]."),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("amex 378282246310005", "amex [card]"),
        ("not a card 4111 1111 1111 1112", "not a card 4111 1111 1111 1112"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [iban] please"),
        ("GB82WEST12345698765432", "[iban]"),
        ("bad IBAN GB00WEST12345698765432", "bad IBAN GB00WEST12345698765432"),
        ("call +1 415 555 0100 or 020 7946 0958", "call [phone] or [phone]"),
        ("or +4915112345678", "or [phone]"),
        ("key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv ok", "key [secret:api_key] ok"),
        ("AKIAIOSFODNN7EXAMPLE", "[secret:api_key]"),
        ("ghp_" + "a" * 36, "[secret:api_key]"),
        (
            "Authorization: Bearer abcdefghijklmnop0123456789",
            "Authorization: [secret:bearer_token]",
        ),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlMTIz", "jwt [secret:jwt]"),
        # Left alone: dates, times, ids, counts.
        ("on 2026-12-01 at 10:15, order 123456", "on 2026-12-01 at 10:15, order 123456"),
        ("run 123e4567-e89b-12d3-a456-426614174000", "run 123e4567-e89b-12d3-a456-426614174000"),
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("DE89 3704 0044 0532 0130 00") and not iban_valid("DE00370400440532013000")


def test_nested_values_and_the_langfuse_hook() -> None:
    data = {
        "messages": [{"content": "I am bob@example.com"}, ("card", "5555 5555 5555 4444")],
        "count": 3,
        "ok": True,
        "none": None,
    }
    expected = {
        "messages": [{"content": "I am [email]"}, ["card", "[card]"]],
        "count": 3,
        "ok": True,
        "none": None,
    }
    assert mask_value(data) == expected
    assert langfuse_mask(data=data) == expected
