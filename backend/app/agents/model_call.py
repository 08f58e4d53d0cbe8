"""The executor's model call: streamed only when a client streams tokens, parsed alike either way.

Streaming costs about a quarter of a run's CPU, so a run nobody streams makes a plain call. A
streamed answer's tool-call arguments are parsed by LangChain as *partial* JSON (`{not json`
becomes `{}`), a plain one's strictly; the streamed calls are re-parsed strictly here so a
malformed call ends a run the same way on both endpoints.
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    InvalidToolCall,
    ToolCall,
    message_chunk_to_message,
)
from langchain_core.messages.tool import invalid_tool_call, tool_call

from app.agents.model_chain import CallScope, ModelChain


async def call_model(
    model: ModelChain,
    messages: Sequence[BaseMessage],
    *,
    scope: CallScope | None = None,
    on_text: Callable[[str], Awaitable[None]] | None = None,
) -> BaseMessage:
    """The model's answer; streamed, with each chunk's text handed to `on_text`, when given."""
    if on_text is None:
        answer: BaseMessage = await model.ainvoke(messages, scope)
        return answer
    merged: AIMessageChunk | None = None
    async for chunk in model.astream(messages, scope):
        if not isinstance(chunk, AIMessageChunk):
            continue
        merged = chunk if merged is None else merged + chunk
        if chunk.text:
            await on_text(chunk.text)
    if merged is None:
        return AIMessage(content="")
    return strict_tool_calls(merged)


def strict_tool_calls(chunk: AIMessageChunk) -> BaseMessage:
    """The streamed answer as one message, with tool-call arguments parsed as strict JSON."""
    message = message_chunk_to_message(chunk)
    if not chunk.tool_call_chunks:
        return message
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []  # LangChain's own lists come from these same chunks
    for part in chunk.tool_call_chunks:
        raw = part.get("args") or ""
        name, call_id = part.get("name") or "", part.get("id")
        args = _strict_args(raw)
        if args is None:
            invalid.append(invalid_tool_call(name=name, args=raw, id=call_id, error=None))
        else:
            calls.append(tool_call(name=name, args=args, id=call_id))
    return message.model_copy(update={"tool_calls": calls, "invalid_tool_calls": invalid})


def _strict_args(raw: str) -> dict[str, Any] | None:
    """Arguments as a provider's non-streamed parse reads them: empty is `{}`, else JSON object."""
    if not raw.strip():
        return {}
    try:
        args = json.loads(raw)
    except ValueError:
        return None
    return args if isinstance(args, dict) else None
