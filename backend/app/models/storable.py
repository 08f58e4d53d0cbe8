"""One validation for every text and JSON value the API stores: refused (422) before anything starts.

PostgreSQL can't store NUL in text or in `jsonb` (the checkpoints), and no database driver can
encode a lone UTF-16 surrogate; JSON that is very deep or very large is refused too. A value
nested inside JSON is reported with its path in the error's `ctx["path"]`, which the API's
validation handler appends to `loc`.
"""

import json
from typing import Annotated, Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

MAX_JSON_DEPTH = 16
MAX_JSON_CHARS = 16_000
ERROR_TYPE = "unstorable_value"
PathPart = str | int


def printable_key(key: str) -> str:
    """A key as it can appear in an error location (lone surrogates escaped)."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def text_problem(value: str) -> str | None:
    """Why this text can't be stored, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode)"
    return None


def _fail(problem: str, path: tuple[PathPart, ...] = ()) -> PydanticCustomError:
    return PydanticCustomError(ERROR_TYPE, "Value {problem}", {"problem": problem, "path": path})


def check_text(value: str) -> str:
    """Refuse NUL characters and lone surrogates."""
    if problem := text_problem(value):
        raise _fail(problem)
    return value


def _walk(value: Any, path: tuple[PathPart, ...], depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise _fail(f"is nested deeper than {MAX_JSON_DEPTH} levels", path)
    if isinstance(value, str):
        if problem := text_problem(value):
            raise _fail(problem, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            key_path = (*path, printable_key(str(key)))
            if problem := text_problem(str(key)):
                raise _fail(f"has a key that {problem}", key_path)
            _walk(item, key_path, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, (*path, index), depth + 1)


def check_json(value: Any, max_chars: int = MAX_JSON_CHARS) -> Any:
    """Refuse JSON with unstorable text anywhere (keys too), too deep, or too large."""
    if value is None:
        return value
    _walk(value, (), 1)
    if len(json.dumps(value, ensure_ascii=False)) > max_chars:
        raise _fail(f"is too large (max {max_chars} characters of JSON)")
    return value


def json_limited(max_chars: int) -> AfterValidator:
    """`check_json` with a smaller size limit."""
    return AfterValidator(lambda value: check_json(value, max_chars))


StorableText = Annotated[str, AfterValidator(check_text)]
StorableJson = Annotated[dict[str, Any], AfterValidator(check_json)]
