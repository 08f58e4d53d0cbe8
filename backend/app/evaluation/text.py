"""Turn the many shapes of trace input/output (strings, JSON, message lists) into plain text."""

import json
from typing import Any

from app.evaluation.schemas import ToolCallRecord

_INPUT_KEYS = ("input", "message", "question", "query", "prompt", "content", "text")
_OUTPUT_KEYS = ("output", "response", "answer", "content", "text", "result", "final_answer")
_USER_ROLES = {"user", "human", "humanmessage"}
_ASSISTANT_ROLES = {"assistant", "ai", "aimessage", "aimessagechunk"}


def _maybe_json(value: str) -> Any:
    stripped = value.strip()
    if stripped[:1] in ("{", "[", '"'):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def _content(value: Any) -> str:
    """Message content: a string, or a list of parts with `text`."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in value]
        return "\n".join(part for part in parts if part)
    return "" if value is None else json.dumps(value, default=str)


def _role(message: dict[str, Any]) -> str:
    """The role of a chat message in OpenAI, LangChain or LangChain-serialised form."""
    if message.get("lc") and isinstance(message.get("id"), list):
        return str(message["id"][-1]).lower()
    return str(message.get("role") or message.get("type") or "").lower()


def _message_body(message: dict[str, Any]) -> dict[str, Any]:
    kwargs = message.get("kwargs")
    return kwargs if message.get("lc") and isinstance(kwargs, dict) else message


def _is_message(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and bool(_role(item))
        and ("content" in _message_body(item) or bool(item.get("lc")))
    )


def _format_messages(messages: list[dict[str, Any]]) -> str:
    lines = []
    for message in messages:
        body, role = _message_body(message), _role(message)
        text = _content(body.get("content"))
        if role in ("tool", "toolmessage", "function"):
            lines.append(f"tool {body.get('name') or ''}: {text}".strip())
        elif text:
            lines.append(f"{role.removesuffix('message') or 'message'}: {text}")
    return "\n".join(lines)


def messages_to_io(messages: list[dict[str, Any]]) -> tuple[str, str]:
    """(conversation before the last assistant message, that message's text)."""
    last_ai = max(
        (
            i
            for i, m in enumerate(messages)
            if _role(m) in _ASSISTANT_ROLES and _content(_message_body(m).get("content"))
        ),
        default=None,
    )
    if last_ai is None:
        return _format_messages(messages), ""
    answer = _content(_message_body(messages[last_ai]).get("content"))
    return _format_messages(messages[:last_ai]), answer


def to_text(value: Any, *, side: str) -> str:
    """Plain text for one side ('input' or 'output') of a trace."""
    if value is None:
        return ""
    if isinstance(value, str):
        parsed = _maybe_json(value)
        return parsed if isinstance(parsed, str) else to_text(parsed, side=side)
    if isinstance(value, list):
        if value and all(_is_message(item) for item in value):
            before, answer = messages_to_io(value)
            return answer if side == "output" and answer else before
        return "\n".join(to_text(item, side=side) for item in value)
    if isinstance(value, dict):
        if isinstance(value.get("messages"), list):
            return to_text(value["messages"], side=side)
        if _is_message(value):
            return _content(_message_body(value).get("content"))
        for key in _INPUT_KEYS if side == "input" else _OUTPUT_KEYS:
            if value.get(key) not in (None, ""):
                return to_text(value[key], side=side)
    return json.dumps(value, default=str, ensure_ascii=False)


def trace_io(raw_input: Any, raw_output: Any) -> tuple[str, str]:
    """(input, output) text for a trace; a message list in the output carries both."""
    parsed_output = _maybe_json(raw_output) if isinstance(raw_output, str) else raw_output
    messages = parsed_output.get("messages") if isinstance(parsed_output, dict) else None
    if isinstance(messages, list) and messages and all(_is_message(m) for m in messages):
        before, answer = messages_to_io(messages)
        # The conversation in the output includes tool results: the judge needs them to check
        # grounding (hallucination), so it wins over the bare input.
        return (before or to_text(raw_input, side="input")), answer
    return to_text(raw_input, side="input"), to_text(raw_output, side="output")


def _message_list(value: Any) -> list[dict[str, Any]] | None:
    parsed = _maybe_json(value) if isinstance(value, str) else value
    if isinstance(parsed, dict):
        parsed = parsed.get("messages")
    if isinstance(parsed, list) and parsed and all(_is_message(m) for m in parsed):
        return parsed
    return None


def _calls_of(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, name, JSON args) of an assistant message's tool calls (LangChain or OpenAI shape)."""
    calls = []
    for call in body.get("tool_calls") or []:
        if not isinstance(call, dict):
            continue
        raw_function = call.get("function")
        function: dict[str, Any] = raw_function if isinstance(raw_function, dict) else {}
        name = call.get("name") or function.get("name") or "?"
        args = call.get("args", function.get("arguments", ""))
        text = args if isinstance(args, str) else json.dumps(args, default=str, ensure_ascii=False)
        calls.append((str(call.get("id") or ""), str(name), text))
    return calls


def trace_parts(raw_input: Any, raw_output: Any) -> tuple[str | None, str, list[ToolCallRecord]]:
    """(the user's latest request, the conversation before it, the tool calls since it with
    their outputs) from a trace's message list; (None, "", []) when it has none."""
    messages = _message_list(raw_output) or _message_list(raw_input)
    if not messages:
        return None, "", []
    roles = [_role(m) for m in messages]
    answers = [
        i
        for i, m in enumerate(messages)
        if roles[i] in _ASSISTANT_ROLES and _content(_message_body(m).get("content"))
    ]
    turn = messages[: answers[-1]] if answers else messages
    users = [i for i in range(len(turn)) if roles[i] in _USER_ROLES]
    if not users:
        return None, "", []
    request = _content(_message_body(turn[users[-1]]).get("content"))
    calls: dict[str, ToolCallRecord] = {}
    for message in turn[users[-1] + 1 :]:
        body, role = _message_body(message), _role(message)
        for call_id, name, args in _calls_of(body):
            calls[call_id or f"{name}:{len(calls)}"] = ToolCallRecord(name=name, args=args)
        if role in ("tool", "toolmessage", "function"):
            output = _content(body.get("content"))
            call_id = str(body.get("tool_call_id") or "")
            if call_id in calls:
                calls[call_id].output = output
            else:
                name = str(body.get("name") or "?")
                calls[call_id or f"{name}:{len(calls)}"] = ToolCallRecord(name=name, output=output)
    return request, _format_messages(turn[: users[-1]]), list(calls.values())
