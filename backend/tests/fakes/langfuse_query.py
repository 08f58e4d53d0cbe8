"""Query helpers of the fake Langfuse: limits, field groups, cursors and the `filter` JSON."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.fakes.langfuse_model import parse_iso


class QueryError(ValueError):
    """A bad query parameter (answered with 400)."""


def parse_int(raw: str | None, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter within bounds."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise QueryError(f"{name} must be an integer") from exc
    if not minimum <= value <= maximum:
        raise QueryError(f"{name} must be between {minimum} and {maximum}")
    return value


def parse_groups(raw: str | None, allowed: set[str], default: set[str]) -> set[str]:
    """A comma-separated field-group list; unknown names are rejected."""
    if not raw:
        return set(default)
    groups = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = groups - allowed
    if unknown:
        raise QueryError(f"unknown field groups: {', '.join(sorted(unknown))}")
    return groups


def parse_time(raw: str | None, name: str) -> datetime | None:
    """An ISO 8601 query parameter."""
    if not raw:
        return None
    try:
        return parse_iso(raw)
    except ValueError as exc:
        raise QueryError(f"{name} must be an ISO 8601 datetime") from exc


def parse_bool(raw: str | None, name: str) -> bool | None:
    """A true/false query parameter."""
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):
        raise QueryError(f"{name} must be true or false")
    return raw.lower() == "true"


def split_csv(raw: str | None) -> list[str]:
    """A comma-separated list parameter."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def encode_cursor(position: list[Any]) -> str:
    """An opaque, URL-safe cursor for the position after the last returned item."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> list[Any] | None:
    """The position stored in a cursor (400 when it was not made by this server)."""
    if not raw:
        return None
    try:
        padded = raw + "=" * (-len(raw) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise QueryError("invalid cursor") from exc
    if not isinstance(position, list):
        raise QueryError("invalid cursor")
    return position


@dataclass(frozen=True)
class Condition:
    """One entry of the `filter` JSON array."""

    type: str
    column: str
    operator: str
    value: Any
    key: str | None


def parse_filter(raw: str | None) -> list[Condition] | None:
    """Parse the `filter` query parameter; None when absent."""
    if not raw:
        return None
    try:
        items = json.loads(raw)
    except ValueError as exc:
        raise QueryError("filter must be a JSON array") from exc
    if not isinstance(items, list):
        raise QueryError("filter must be a JSON array")
    conditions = []
    for item in items:
        if not isinstance(item, dict) or not {"type", "column", "operator"} <= item.keys():
            raise QueryError("each filter needs type, column and operator")
        if item["type"] != "null" and "value" not in item:
            raise QueryError(f"filter on {item['column']} needs a value")
        conditions.append(
            Condition(
                item["type"], item["column"], item["operator"], item.get("value"), item.get("key")
            )
        )
    return conditions


def _compare_number(actual: Any, operator: str, expected: Any) -> bool:
    if actual is None:
        return False
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
    }
    if operator not in ops:
        raise QueryError(f"operator {operator!r} is not valid here")
    return bool(ops[operator](actual, expected))


def _compare_string(actual: Any, operator: str, expected: Any) -> bool:
    text = "" if actual is None else actual if isinstance(actual, str) else json.dumps(actual)
    needle = str(expected)
    if operator == "=":
        return actual is not None and text == needle
    if operator == "contains":
        return needle in text
    if operator == "does not contain":
        return needle not in text
    if operator == "starts with":
        return text.startswith(needle)
    if operator == "ends with":
        return text.endswith(needle)
    if operator == "matches":  # an indexed literal search on the server; a substring here
        return needle.lower() in text.lower()
    raise QueryError(f"operator {operator!r} is not valid for strings")


def _compare_options(actual: Any, operator: str, expected: Any) -> bool:
    wanted = set(expected if isinstance(expected, list) else [expected])
    have = set(actual) if isinstance(actual, list) else {actual}
    if operator == "any of":
        return bool(have & wanted)
    if operator == "none of":
        return not have & wanted
    if operator == "all of":
        return wanted <= have
    raise QueryError(f"operator {operator!r} is not valid for options")


def matches(condition: Condition, actual: Any) -> bool:
    """Whether a value satisfies one filter condition."""
    kind, op, expected = condition.type, condition.operator, condition.value
    if kind == "null":
        if op not in ("is null", "is not null"):
            raise QueryError(f"operator {op!r} is not valid for null")
        return (actual is None) == (op == "is null")
    if kind == "datetime":
        return _compare_number(actual, op, parse_time(str(expected), condition.column))
    if kind in ("number", "numberObject"):
        return _compare_number(actual, op, expected)
    if kind in ("string", "stringObject"):
        return _compare_string(actual, op, expected)
    if kind in ("stringOptions", "categoryOptions", "arrayOptions"):
        return _compare_options(actual, op, expected)
    if kind in ("boolean", "booleanObject"):
        if op not in ("=", "<>"):
            raise QueryError(f"operator {op!r} is not valid for booleans")
        return bool(actual == expected) == (op == "=")
    raise QueryError(f"unknown filter type {kind!r}")


def apply_filter(
    conditions: list[Condition], items: list[Any], column: Callable[[Any, Condition], Any]
) -> list[Any]:
    """Keep the items matching every condition; `column` reads a column (QueryError if unknown)."""
    return [item for item in items if all(matches(c, column(item, c)) for c in conditions)]
