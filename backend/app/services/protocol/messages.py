"""A run's `input.messages` (LangChain message dicts) as the text of the user's turn.

Only user messages are accepted: the system prompt is the agent's own, and a client that could
send AI or tool messages could make up tool results the guardrails never screened.
"""

from typing import Any

from app.core.config import settings
from app.models.storable import text_problem
from app.services.runs.errors import ProtocolInputError

USER_TYPES = frozenset({"human", "user"})


def _text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ProtocolInputError(f"{where}.content must be a string or a list of content blocks")
    parts: list[str] = []
    for index, block in enumerate(content):
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            text = block.get("text")
            if not isinstance(text, str):
                raise ProtocolInputError(f"{where}.content[{index}].text must be a string")
            parts.append(text)
        else:
            kind = block.get("type") if isinstance(block, dict) else type(block).__name__
            raise ProtocolInputError(
                f"{where}.content[{index}]: only text content is supported (got {kind!r})"
            )
    return "\n".join(parts)


def user_text(run_input: dict[str, Any]) -> str | None:
    """The user's message from `input` (None when the input carries no messages)."""
    messages = run_input.get("messages")
    if messages is None:
        return None
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list) or not messages:
        raise ProtocolInputError("input.messages must be a non-empty list of messages")
    texts: list[str] = []
    for index, message in enumerate(messages):
        where = f"input.messages[{index}]"
        if isinstance(message, str):
            texts.append(message)
            continue
        if not isinstance(message, dict):
            raise ProtocolInputError(f"{where} must be a message object")
        kind = message.get("type", message.get("role"))
        if kind not in USER_TYPES:
            raise ProtocolInputError(
                f"{where}: only user messages can be sent (type 'human' or role 'user'), "
                f"got {kind!r}"
            )
        if "content" not in message:
            raise ProtocolInputError(f"{where}.content is required")
        texts.append(_text(message["content"], where))
    text = "\n\n".join(texts)
    if not text.strip():
        raise ProtocolInputError("input.messages: the message must not be blank")
    if len(text) > settings.AGENT_MAX_INPUT_CHARS:
        raise ProtocolInputError(
            f"input.messages: the message is longer than AGENT_MAX_INPUT_CHARS "
            f"({settings.AGENT_MAX_INPUT_CHARS})"
        )
    if problem := text_problem(text):
        raise ProtocolInputError(f"input.messages: the message {problem}")
    return text
