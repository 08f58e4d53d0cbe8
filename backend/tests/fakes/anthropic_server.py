"""A local stub of Anthropic's messages API (POST /v1/messages, plain and streamed).

with AnthropicStub() as stub:                   # or the `anthropic_stub` fixture
    stub.enqueue(text("hi"), tool_call("lookup_user_items", {}), error(529))
    ChatAnthropic(model="claude-x", base_url=stub.url, api_key="test")
    stub.requests                               # every request body received
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.llm_http import StubServer, pieces, plain_response, sse_response, wait
from tests.fakes.llm_script import AnyReply, ChatView, ErrorReply, Reply, Script, Usage, usage_for

_ids = itertools.count(1)
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "text":
            parts.append(block.get("text", ""))
        elif isinstance(block, dict) and block.get("type") == "tool_result":
            parts.append(_block_text(block.get("content")))
    return "".join(parts)


def _is_tool_result(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("type") == "tool_result" for block in content
    )


def anthropic_view(body: dict[str, Any]) -> ChatView:
    """Read the parts of a messages request that scripted answers depend on."""
    messages = body.get("messages") or [{}]
    last = messages[-1]
    user_messages = [m for m in messages if m.get("role") == "user" and not _is_tool_result(m)]
    tools = {
        tool["name"]: tool.get("input_schema") or {}
        for tool in body.get("tools") or []
        if "input_schema" in tool
    }
    choice = body.get("tool_choice") or {}
    output_format = (body.get("output_config") or {}).get("format") or body.get("output_format")
    schema = output_format.get("schema") if isinstance(output_format, dict) else None
    return ChatView(
        last_role="tool" if _is_tool_result(last) else last.get("role", "user"),
        last_text=_block_text(last.get("content")),
        last_user_text=_block_text(user_messages[-1].get("content")) if user_messages else "",
        tools=tools,
        forced_tool=choice.get("name") if choice.get("type") == "tool" else None,
        response_schema=schema,
        prompt_chars=len(json.dumps(messages)) + len(json.dumps(body.get("system") or "")),
    )


def _blocks(reply: Reply, message_id: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    for index, call in enumerate(reply.tool_calls):
        arguments = call.arguments
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except ValueError:
                arguments = {"_raw": arguments}
        block_id = call.id or f"toolu_{message_id[-6:]}_{index}"
        blocks.append({"type": "tool_use", "id": block_id, "name": call.name, "input": arguments})
    return blocks


def message(reply: Reply, usage: Usage, model: str, message_id: str) -> dict[str, Any]:
    """A non-streaming Message object."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _blocks(reply, message_id),
        "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens},
    }


def _event(kind: str, **data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


def message_events(reply: Reply, usage: Usage, model: str, message_id: str) -> list[str]:
    """The SSE events of a streamed message, tool input split into input_json_delta chunks."""
    start = message(reply, Usage(usage.prompt_tokens, 1), model, message_id)
    start |= {"content": [], "stop_reason": None}
    events = [_event("message_start", message=start), _event("ping")]
    raw_arguments = [call.arguments_json() for call in reply.tool_calls]
    for index, block in enumerate(_blocks(reply, message_id)):
        if block["type"] == "text":
            events.append(
                _event(
                    "content_block_start", index=index, content_block={"type": "text", "text": ""}
                )
            )
            for piece in pieces(block["text"], reply.chunk_size):
                delta = {"type": "text_delta", "text": piece}
                events.append(_event("content_block_delta", index=index, delta=delta))
        else:
            head = block | {"input": {}}
            events.append(_event("content_block_start", index=index, content_block=head))
            arguments = raw_arguments[index - (1 if reply.text else 0)]
            for piece in pieces(arguments, reply.chunk_size):
                delta = {"type": "input_json_delta", "partial_json": piece}
                events.append(_event("content_block_delta", index=index, delta=delta))
        events.append(_event("content_block_stop", index=index))
    stop = {"stop_reason": "tool_use" if reply.tool_calls else "end_turn", "stop_sequence": None}
    final_usage = {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens}
    events.append(_event("message_delta", delta=stop, usage=final_usage))
    events.append(_event("message_stop"))
    return events


def error_response(reply: ErrorReply) -> JSONResponse:
    """An Anthropic-style error body, with Retry-After when scripted."""
    kind = _ERROR_TYPES.get(reply.status, "api_error")
    body = {"type": "error", "error": {"type": kind, "message": reply.message}}
    headers = {"retry-after": f"{reply.retry_after:g}"} if reply.retry_after is not None else {}
    return JSONResponse(body, status_code=reply.status, headers=headers)


def build_app(script: Script) -> Starlette:
    """The ASGI app: POST /v1/messages."""

    async def messages(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return error_response(ErrorReply(400, "body must be JSON with a messages array"))
        view = anthropic_view(body)
        reply: AnyReply = script.next_reply(body, view)
        await wait(script.latency + reply.delay)
        if isinstance(reply, ErrorReply):
            return error_response(reply)
        message_id = f"msg_stub{next(_ids):06d}"
        model = str(body.get("model") or "claude-stub")
        usage = usage_for(reply, view)
        if not body.get("stream"):
            return await plain_response(message(reply, usage, model, message_id), reply)
        events = message_events(reply, usage, model, message_id)
        return sse_response(events, reply, script.chunk_delay, {"cache-control": "no-cache"})

    return Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])


class AnthropicStub(StubServer):
    """The stub on 127.0.0.1 while the context is open; pass `url` as ChatAnthropic's base_url."""

    def __init__(self) -> None:
        super().__init__(build_app)
