"""PII and secret masking for telemetry: one function, used by Langfuse's `mask` hook and the logs.

Masks emails, phone numbers, payment card numbers (Luhn-checked, so order ids and timestamps stay
readable), IBANs (mod-97 checked) and secrets (API keys, bearer tokens, JWTs, private keys).
Each match becomes a placeholder such as `[email]` or `[secret:api_key]`. The agent's own run log
in the database is not masked: it is the user's data, which the user can export or delete.
"""

import re
import string
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

# Secrets first: a token can contain digit runs that would otherwise look like a phone number.
SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "private_key": re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
    ),
    "api_key": re.compile(
        r"\b(?:sk|pk|rk)-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{16,}"  # OpenAI, Anthropic, ...
        r"|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
        r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
        r"|\bAIza[0-9A-Za-z_\-]{35}"  # Google API key
        r"|\bxox[abposr]-[A-Za-z0-9\-]{10,}"  # Slack
        r"|\bgh[pousr]_[A-Za-z0-9]{36,}"  # GitHub
        r"|\bgithub_pat_[A-Za-z0-9_]{22,}"
        r"|\bglpat-[A-Za-z0-9_\-]{20,}"  # GitLab
    ),
    "jwt": re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    "bearer_token": re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{16,}=*"),
}
EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
CARD = re.compile(r"(?<![\d+-])(?:\d[ -]?){12,18}\d(?![\d-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){2,4}(?!\w)"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}[./-]\d{2}[./-]\d{4}")
PHONE_COMPACT = re.compile(r"(?<![\w+])\+\d{8,15}(?!\w)")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a card number (digits only)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces allowed)."""
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def _iban(match: re.Match[str]) -> str:
    return "[iban]" if iban_valid(match.group()) else match.group()


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    if _DATE.fullmatch(match.group()):
        return match.group()  # 2026-12-01, not a phone number
    return "[phone]" if 7 <= len(digits) <= 15 else match.group()


def find_secrets(text: str) -> list[tuple[str, str]]:
    """(kind, value) of every secret in `text`."""
    return [(kind, m.group()) for kind, rx in SECRET_PATTERNS.items() for m in rx.finditer(text)]


_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_PRIVATE_KEY_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY-----")
# What keys, tokens, JWTs and email addresses are made of: a text that ends in a run of these
# may end in the middle of one.
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "_-.~+/=%@")


def unfinished_match_start(text: str) -> int:
    """Where a secret or email address that later text could still complete may begin:
    the token-like run `text` ends with, or an unclosed private key block (`len(text)`: none)."""
    start = len(text)
    while start > 0 and text[start - 1] in _TOKEN_CHARS:
        start -= 1
    begins = list(_PRIVATE_KEY_BEGIN.finditer(text))
    if begins and not _PRIVATE_KEY_END.search(text, begins[-1].end()):
        start = min(start, begins[-1].start())
    return start


def redact_secrets(text: str, placeholder: Callable[[str], str]) -> tuple[str, list[str]]:
    """Replace secrets with `placeholder(kind)`; return the text and the kinds found."""
    kinds: list[str] = []
    for kind, pattern in SECRET_PATTERNS.items():

        def replace(_match: re.Match[str], kind: str = kind) -> str:
            kinds.append(kind)
            return placeholder(kind)

        text = pattern.sub(replace, text)
    return text, kinds


def mask_text(text: str) -> str:
    """Mask secrets, emails, IBANs, card numbers and phone numbers in one string."""
    if not text:
        return text
    text, _ = redact_secrets(text, lambda kind: f"[secret:{kind}]")
    text = EMAIL.sub("[email]", text)
    text = IBAN.sub(_iban, text)
    text = PHONE_COMPACT.sub("[phone]", text)
    text = CARD.sub(_card, text)
    return PHONE.sub(_phone, text)


def mask_value(value: Any) -> Any:
    """Mask every string inside a JSON-like value (dicts, lists, tuples); other values as is."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(item) for item in value]
    if hasattr(value, "model_dump") and callable(value.model_dump):
        return mask_value(value.model_dump(mode="json"))
    return value


def langfuse_mask(*, data: Any, **_: Any) -> Any:
    """Langfuse's `mask` hook: applied to every observation's input, output and metadata."""
    return mask_value(data)


# Log keys that identify things and never hold user text: left as is (fast, and readable).
_LOG_KEYS_KEPT = frozenset(
    {"timestamp", "level", "logger", "request_id", "run_id", "thread_id", "trace_id", "user_id"}
)


def mask_log_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: mask the message and every field (exceptions included)."""
    for key, value in event_dict.items():
        if key not in _LOG_KEYS_KEPT:
            event_dict[key] = mask_value(value)
    return event_dict
