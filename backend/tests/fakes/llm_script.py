"""Scripted answers shared by the OpenAI and Anthropic stubs: replies, the queue, auto mode.

A reply is chosen per request: the next queued one, else the installed responder, else auto mode.

Auto mode (zero latency unless `Script.latency` is set), in this order:
1. a forced tool (tool_choice naming one function) -> a call to it, arguments sampled from
   its schema;
2. a requested JSON schema (response_format / output_config) -> a JSON sample of that schema;
3. the last message is a tool result -> text "Done. Tool result: <first 200 characters>";
4. the latest user message mentions "items" and a `lookup_user_items` tool is offered
   -> a call to `lookup_user_items` with its required arguments sampled (usually `{}`);
5. otherwise -> text "Stub reply to: <the latest user message, first 200 characters>".
Messages after the latest user message (a plan, a system prompt) do not change rules 4 and 5.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tests.fakes.schema_sample import sample


@dataclass
class ToolCall:
    """One tool call the model makes; `arguments` may be a dict or a raw (even invalid) string."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        """The arguments as the JSON string the wire format carries."""
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class Usage:
    """Token counts reported with a reply."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Reply:
    """A scripted model answer and how to deliver it."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    structured: Any = None  # JSON answer: content for a JSON-schema request, else a tool call
    refusal: str | None = None  # OpenAI's `refusal` field: the model declined (no content)
    usage: Usage | None = None  # None: counted from the request and reply (4 characters a token)
    delay: float = 0.0  # seconds before the response starts (use > client timeout for timeouts)
    chunk_delay: float = 0.0  # seconds between stream chunks
    cut_after: int | None = None  # drop the connection after this many events (plain: mid-body)
    chunk_size: int = 8  # characters per streamed text or argument chunk
    stall_after: int | None = None  # streaming: go silent after this many events...
    stall_seconds: float = 0.0  # ...for this long (a plain answer: this long before it starts)
    malformed_json: bool = False  # a body (or stream events) that is not valid JSON


@dataclass
class ErrorReply:
    """An HTTP error answer (429 with Retry-After, 500, 529, ...)."""

    status: int
    message: str = "injected error"
    retry_after: float | None = None
    delay: float = 0.0


AnyReply = Reply | ErrorReply


def text(content: str, **options: Any) -> Reply:
    """A plain text answer."""
    return Reply(text=content, **options)


def tool_call(name: str, arguments: dict[str, Any] | str | None = None, **options: Any) -> Reply:
    """An answer that calls one tool."""
    return Reply(tool_calls=[ToolCall(name, arguments if arguments is not None else {})], **options)


def structured(data: Any, **options: Any) -> Reply:
    """A JSON answer for with_structured_output (json_schema content or a forced tool call)."""
    return Reply(structured=data, **options)


def refusal(explanation: str, **options: Any) -> Reply:
    """A refusal (OpenAI's `refusal` field) instead of an answer."""
    return Reply(refusal=explanation, **options)


def hang(seconds: float = 30.0) -> Reply:
    """An answer that doesn't start for `seconds` (longer than any client timeout in tests)."""
    return Reply(text="too late", delay=seconds)


def stall(after_events: int = 2, seconds: float = 30.0, **options: Any) -> Reply:
    """A streamed answer that goes silent after `after_events` events."""
    text_ = options.pop("text", "this answer stalls halfway through " * 3)
    return Reply(text=text_, stall_after=after_events, stall_seconds=seconds, **options)


def malformed_json(**options: Any) -> Reply:
    """A 200 answer whose body (or stream events) isn't JSON."""
    return Reply(text="unused", malformed_json=True, **options)


def error(
    status: int, message: str = "injected error", retry_after: float | None = None
) -> ErrorReply:
    """An error answer."""
    return ErrorReply(status, message, retry_after)


@dataclass
class ChatView:
    """What auto mode and structured replies need from a request, whatever the provider."""

    last_role: str  # "user", "assistant", "system" or "tool" (a tool result)
    last_text: str
    last_user_text: str  # the most recent user message that is not a tool result
    tools: dict[str, dict[str, Any]]  # tool name -> JSON schema of its arguments
    forced_tool: str | None
    response_schema: dict[str, Any] | None
    prompt_chars: int


def auto_reply(view: ChatView) -> Reply:
    """The documented auto mode (see the module docstring)."""
    if view.forced_tool:
        return tool_call(view.forced_tool, sample(view.tools.get(view.forced_tool, {})) or {})
    if view.response_schema is not None:
        return Reply(structured=sample(view.response_schema) if view.response_schema else {})
    if view.last_role == "tool":
        return text(f"Done. Tool result: {view.last_text[:200]}")
    if "items" in view.last_user_text.lower() and "lookup_user_items" in view.tools:
        return tool_call("lookup_user_items", sample(view.tools["lookup_user_items"]) or {})
    return text(f"Stub reply to: {view.last_user_text[:200]}")


def resolve_structured(reply: Reply, view: ChatView) -> Reply:
    """Turn a `structured` reply into text (JSON-schema request) or a tool call (tools)."""
    if reply.structured is None:
        return reply
    tool = view.forced_tool or (next(iter(view.tools)) if len(view.tools) == 1 else None)
    if view.response_schema is None and tool:
        return replace(reply, structured=None, tool_calls=[ToolCall(tool, reply.structured)])
    return replace(reply, structured=None, text=json.dumps(reply.structured))


def usage_for(reply: Reply, view: ChatView) -> Usage:
    """The scripted usage, or a deterministic count (about 4 characters a token)."""
    if reply.usage is not None:
        return reply.usage
    out_chars = len(reply.text) + sum(
        len(c.name) + len(c.arguments_json()) for c in reply.tool_calls
    )
    return Usage(max(1, view.prompt_chars // 4), max(1, out_chars // 4))


class Script:
    """The queue of scripted replies, an optional responder, and every request received."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[AnyReply] = deque()
        # Answers when the queue is empty; returning None means "auto mode for this one".
        self.responder: Callable[[dict[str, Any]], AnyReply | None] | None = None
        self.requests: list[dict[str, Any]] = []
        # (request, reply) of each recorded request: the transcript (tests/support/transcript.py)
        self.exchanges: list[tuple[dict[str, Any], AnyReply]] = []
        self.record = True  # False in long benchmark runs, so memory stays flat
        self.latency = 0.0  # extra seconds before every answer (benchmarks' simulated model time)
        self.chunk_delay = 0.0  # default seconds between stream chunks
        self.busy_seconds = 0.0  # time spent answering chat requests (benchmarks' "model time")

    def enqueue(self, *replies: AnyReply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._lock:
            self._queue.extend(replies)

    def set_responder(self, responder: Callable[[dict[str, Any]], AnyReply | None] | None) -> None:
        """Answer with `responder(request_json)` whenever the queue is empty (None: auto mode)."""
        self.responder = responder

    def reset(self) -> None:
        """Empty queue, no responder, no latency, nothing recorded or timed."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.exchanges.clear()
        self.responder = None
        self.latency = 0.0
        self.chunk_delay = 0.0
        self.busy_seconds = 0.0

    def next_reply(self, body: dict[str, Any], view: ChatView) -> AnyReply:
        """Record the request and pick its reply."""
        with self._lock:
            if self.record:
                self.requests.append(body)
            queued = self._queue.popleft() if self._queue else None
        reply = queued or (self.responder(body) if self.responder else None) or auto_reply(view)
        if not isinstance(reply, ErrorReply):
            reply = resolve_structured(reply, view)
        if self.record:
            with self._lock:
                self.exchanges.append((body, reply))
        return reply

    @property
    def pending(self) -> int:
        """How many queued replies are left."""
        return len(self._queue)
