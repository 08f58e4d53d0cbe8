"""A local OpenAI-compatible chat completions server for tests and benchmarks.

    with OpenAIStub() as stub:                      # or the `openai_stub` fixture
        stub.enqueue(text("hi"), tool_call("lookup_user_items", {}), error(429, retry_after=1))
        ChatOpenAI(base_url=stub.base_url, api_key="test", ...)
        stub.requests                               # every request body received

Standalone, in auto mode (see llm_script), from backend/:
    python -m tests.fakes.openai_server --port 9100 --latency-ms 0
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.llm_http import StubServer, pieces, plain_response, sse_response, wait
from tests.fakes.llm_script import AnyReply, ChatView, ErrorReply, Reply, Script, Usage, usage_for

_ids = itertools.count(1)
_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_api_key", 429: "rate_limit_exceeded"}


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


def openai_view(body: dict[str, Any]) -> ChatView:
    """Read the parts of a chat completions request that scripted answers depend on."""
    messages = body.get("messages") or [{}]
    last = messages[-1]
    tools = {
        tool["function"]["name"]: tool["function"].get("parameters") or {}
        for tool in body.get("tools") or []
        if tool.get("type") == "function"
    }
    choice = body.get("tool_choice")
    forced = (
        choice["function"]["name"] if isinstance(choice, dict) and "function" in choice else None
    )
    response_format = body.get("response_format") or {}
    schema: dict[str, Any] | None = None
    if response_format.get("type") == "json_schema":
        schema = response_format.get("json_schema", {}).get("schema") or {}
    elif response_format.get("type") == "json_object":
        schema = {}
    return ChatView(
        last_role=last.get("role", "user"),
        last_text=_text_of(last.get("content")),
        last_user_text=next(
            (_text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
        ),
        tools=tools,
        forced_tool=forced,
        response_schema=schema,
        prompt_chars=len(json.dumps(messages)),
    )


def _tool_calls(reply: Reply, completion_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id or f"call_{completion_id[-6:]}_{index}",
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments_json()},
        }
        for index, call in enumerate(reply.tool_calls)
    ]


def _usage_json(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def completion(reply: Reply, usage: Usage, model: str, completion_id: str) -> dict[str, Any]:
    """A non-streaming chat.completion object."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text or None,
        "refusal": reply.refusal,
    }
    if reply.tool_calls:
        message["tool_calls"] = _tool_calls(reply, completion_id)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": _usage_json(usage),
        "system_fingerprint": None,
    }


def completion_events(
    reply: Reply, usage: Usage, model: str, completion_id: str, include_usage: bool
) -> list[str]:
    """The SSE frames of a streamed completion, tool-call arguments split into chunks."""
    created = int(time.time())

    def frame(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
        choices = (
            []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        )
        chunk = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(chunk)}\n\n"

    events = [frame({"role": "assistant", "content": ""})]
    if reply.text:
        events += [frame({"content": piece}) for piece in pieces(reply.text, reply.chunk_size)]
    for index, call in enumerate(_tool_calls(reply, completion_id)):
        head = {"index": index, "id": call["id"], "type": "function"}
        head["function"] = {"name": call["function"]["name"], "arguments": ""}
        events.append(frame({"tool_calls": [head]}))
        for piece in pieces(call["function"]["arguments"], reply.chunk_size):
            events.append(
                frame({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            )
    events.append(frame({}, "tool_calls" if reply.tool_calls else "stop"))
    if include_usage:
        events.append(frame(None, usage=_usage_json(usage)))
    events.append("data: [DONE]\n\n")
    return events


def error_response(reply: ErrorReply) -> JSONResponse:
    """An OpenAI-style error body, with Retry-After when scripted."""
    kind = _ERROR_TYPES.get(
        reply.status, "server_error" if reply.status >= 500 else "invalid_request_error"
    )
    body = {"error": {"message": reply.message, "type": kind, "param": None, "code": kind}}
    headers = {}
    if reply.retry_after is not None:
        headers["retry-after"] = f"{reply.retry_after:g}"
    return JSONResponse(body, status_code=reply.status, headers=headers)


def build_app(script: Script, model_id: str = "stub-model") -> Starlette:
    """The ASGI app: POST /v1/chat/completions and GET /v1/models."""

    async def chat_completions(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return error_response(ErrorReply(400, "body must be JSON with a messages array"))
        view = openai_view(body)
        reply: AnyReply = script.next_reply(body, view)
        await wait(script.latency + reply.delay)
        if isinstance(reply, ErrorReply):
            return error_response(reply)
        completion_id = f"chatcmpl-stub{next(_ids):06d}"
        model = str(body.get("model") or model_id)
        usage = usage_for(reply, view)
        if not body.get("stream"):
            return await plain_response(completion(reply, usage, model, completion_id), reply)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events = completion_events(reply, usage, model, completion_id, include_usage)
        return sse_response(events, reply, script.chunk_delay, {"cache-control": "no-cache"})

    async def timed_chat_completions(request: Request) -> Response:
        start = time.perf_counter()
        try:
            return await chat_completions(request)
        finally:
            script.busy_seconds += time.perf_counter() - start

    async def models(request: Request) -> Response:
        entry = {"id": model_id, "object": "model", "created": 0, "owned_by": "stub"}
        return JSONResponse({"object": "list", "data": [entry]})

    async def stats(request: Request) -> Response:
        return JSONResponse({"busy_ms": script.busy_seconds * 1000})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", timed_chat_completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/stats", stats, methods=["GET"]),
        ]
    )


class OpenAIStub(StubServer):
    """The stub on 127.0.0.1 while the context is open; `base_url` ends in /v1."""

    def __init__(self, model_id: str = "stub-model") -> None:
        super().__init__(lambda script: build_app(script, model_id))
        self.base_url = f"{self.url}/v1"


def main() -> None:
    """Serve the stub in auto mode until interrupted (for benchmarks and manual runs)."""
    import uvicorn

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before every answer")
    parser.add_argument(
        "--chunk-delay-ms", type=float, default=0.0, help="delay between stream chunks"
    )
    parser.add_argument("--model", default="stub-model", help="the id GET /v1/models lists")
    args = parser.parse_args()
    script = Script()
    script.record = False
    script.latency = args.latency_ms / 1000
    script.chunk_delay = args.chunk_delay_ms / 1000
    app = build_app(script, args.model)
    print(f"OpenAI-compatible stub on http://{args.host}:{args.port}/v1 (auto mode)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
