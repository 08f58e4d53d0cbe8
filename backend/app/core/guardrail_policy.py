"""The guardrail policy: defaults, plus an optional YAML/JSON file and settings.

Loaded when the settings are read, so a file that doesn't parse stops the app at start-up with
the file and line. This module imports nothing from the app (settings import it).

```yaml
input:
  max_chars: 8000            # optional; AGENT_MAX_INPUT_CHARS applies in any case
  blocked_patterns:          # regexes (Python syntax), matched case-insensitively
    - name: ignore_instructions
      pattern: "ignore (all )?(previous|prior) instructions"
output:
  blocked_terms: ["Project Falcon"]   # redacted from answers as [redacted:blocked_term]
  redact_secrets: true                # API keys, tokens, private keys
  redact_unseen_emails: true          # emails the run didn't read or look up
```
"""

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class PolicyError(ValueError):
    """The policy file can't be read, doesn't parse or doesn't fit the schema."""


class BlockedPattern(BaseModel):
    """A regex that blocks an input; `name` is the rule name reported and counted."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


class InputPolicy(BaseModel):
    """Rules applied to the user's message before the planner."""

    model_config = ConfigDict(extra="forbid")
    max_chars: int | None = Field(default=None, ge=1)
    blocked_patterns: list[BlockedPattern] = Field(default_factory=list)


class OutputPolicy(BaseModel):
    """Rules applied to tool outputs and to the final answer (redaction)."""

    model_config = ConfigDict(extra="forbid")
    blocked_terms: list[str] = Field(default_factory=list)
    redact_secrets: bool = True
    redact_unseen_emails: bool = True


class GuardrailPolicy(BaseModel):
    """The whole policy."""

    model_config = ConfigDict(extra="forbid")
    input: InputPolicy = Field(default_factory=InputPolicy)
    output: OutputPolicy = Field(default_factory=OutputPolicy)


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the node at `loc` (as deep as it exists) in the composed document."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            node = node.value[key] if key < len(node.value) else None
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _parse(path: Path, text: str) -> tuple[Any, yaml.Node | None]:
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"{path}:{exc.lineno}: {exc.msg}") from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise PolicyError(f"{path}{line}: {problem}") from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        root = None  # valid JSON that YAML 1.1 can't compose: lines stay unknown
    return data, root


def parse_policy_file(path: Path) -> GuardrailPolicy:
    """Read and validate one policy file; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read the file ({exc})") from None
    data, root = _parse(path, text)
    try:
        return GuardrailPolicy.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        line = _line_of(root, loc)
        where = f"{path}:{line}" if line else str(path)
        field = ".".join(str(part) for part in loc) or "(document)"
        raise PolicyError(f"{where}: {field}: {first['msg']}") from None


@lru_cache(maxsize=8)
def _cached_file(path: str, mtime_ns: int) -> GuardrailPolicy:  # noqa: ARG001 (cache key)
    return parse_policy_file(Path(path))


def load_policy(
    path: Path | None, extra_patterns: list[str] | str | None = None
) -> GuardrailPolicy:
    """The policy file's rules (cached until the file changes) plus patterns from settings."""
    if isinstance(extra_patterns, str):
        extra_patterns = [extra_patterns]
    policy = GuardrailPolicy()
    if path is not None:
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError as exc:
            raise PolicyError(f"{path}: cannot read the file ({exc.strerror})") from None
        policy = _cached_file(str(path), mtime)
    if extra_patterns:
        extra = []
        for index, pattern in enumerate(extra_patterns):
            try:
                extra.append(BlockedPattern(name=f"blocked_pattern_{index + 1}", pattern=pattern))
            except ValidationError as exc:
                message = exc.errors()[0]["msg"]
                raise PolicyError(
                    f"AGENT_GUARDRAIL_BLOCKED_PATTERNS[{index}] {pattern!r}: {message}"
                ) from None
        policy = policy.model_copy(
            update={
                "input": policy.input.model_copy(
                    update={"blocked_patterns": [*policy.input.blocked_patterns, *extra]}
                )
            }
        )
    return policy
