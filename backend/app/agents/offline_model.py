"""A deterministic in-process chat model: the default when no API key is configured.

langchain_core's fake chat models can't bind tools and drop tool calls when streamed, so this
one is ours. It recognises a few simple requests, plans, calls the real tools, summarises their
real results, and otherwise says plainly that it is the offline model and how to configure one.
"""

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

from app.agents.untrusted import unwrap

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
UUID_RE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
URL_RE = re.compile(r"https?://[^\s\"'<>]+")
ITEMS_RE = re.compile(r"\bitems?\b", re.I)
POST_RE = re.compile(r"\bpost\b|\bsend\b", re.I)
QUOTED_RE = re.compile(r"[\"“']([^\"”']+)[\"”']")
MEMORY_RE = re.compile(r"\b(earlier|before|previous(ly)?|remember|first message)\b", re.I)
WORD_RE = re.compile(r"\s*\S+\s*")
# "use TOOL with {json}": call any bound tool by name, e.g. an MCP tool.
USE_RE = re.compile(r"\buse\s+([A-Za-z0-9_-]+)\s+with\s+(\{.*\})", re.I | re.S)

HELP_TEXT = (
    "I'm the offline demo model, so I only understand a few requests: an email address "
    '(I look up that user), an item id, "show my items", or a URL to fetch. To chat about '
    "anything else, configure a real model: set LLM_MODEL_PROVIDER=openai and OPENAI_API_KEY "
    "(or OPENAI_BASE_URL for a local OpenAI-compatible server such as vLLM or Ollama) in .env."
)


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(
        part.get("text", "") if isinstance(part, dict) else str(part) for part in content
    )


def _count_tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: whitespace-separated words."""
    return len(text.split())


def _explicit_call(request: str) -> tuple[str, dict[str, Any]] | None:
    """`use TOOL with {json}`: that tool with those arguments (None if the JSON is no object)."""
    match = USE_RE.search(request)
    if match is None:
        return None
    try:
        args = json.loads(match.group(2))
    except json.JSONDecodeError:
        return None
    return (match.group(1), args) if isinstance(args, dict) else None


def detect_intents(request: str) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls a request asks for, in order."""
    if explicit := _explicit_call(request):
        return [explicit]
    intents: list[tuple[str, dict[str, Any]]] = []
    urls = URL_RE.findall(request)
    text_without_urls = URL_RE.sub(" ", request)
    for email in EMAIL_RE.findall(text_without_urls):
        if ITEMS_RE.search(request):
            intents.append(("lookup_user_items", {"email": email}))
        else:
            intents.append(("lookup_user_by_email", {"email": email}))
    for item_id in UUID_RE.findall(text_without_urls):
        intents.append(("lookup_item_by_id", {"item_id": item_id}))
    if not intents and ITEMS_RE.search(request) and re.search(r"\bmy\b|\bmine\b", request, re.I):
        intents.append(("lookup_user_items", {}))
    for url in urls:
        if POST_RE.search(request):
            quoted = QUOTED_RE.findall(URL_RE.sub(" ", request))
            intents.append(
                ("http_post", {"url": url, "body": {"message": quoted[0] if quoted else request}})
            )
        else:
            intents.append(("http_get", {"url": url}))
    return intents


def _summarise(name: str, output: str, failed: bool = False) -> str:
    """Turn one tool result into a readable sentence or list."""
    output = unwrap(output)
    if failed and not output.lstrip().startswith("{"):
        return f"`{name}` could not complete: {output[:500]}"
    try:
        data = json.loads(output)
    except json.JSONDecodeError:
        return f"`{name}` returned: {output[:500]}"
    if isinstance(data, dict) and "error" in data:
        return f"`{name}` could not complete: {data['error']}"
    if name == "lookup_user_items" and isinstance(data, dict):
        items = data.get("items", [])
        if not items:
            return f"{data.get('owner', 'You')} has no items yet."
        lines = [f"{data.get('owner')} has {data.get('count', len(items))} item(s):"]
        for item in items:
            description = f" — {item['description']}" if item.get("description") else ""
            lines.append(f"- **{item['title']}**{description} (`{item['id']}`)")
        return "\n".join(lines)
    if name == "lookup_user_by_email" and isinstance(data, dict):
        role = "a superuser" if data.get("is_superuser") else "a normal user"
        state = "active" if data.get("is_active") else "inactive"
        return f"**{data.get('email')}** ({data.get('full_name') or 'no name'}) is {role}, {state}."
    if name == "lookup_item_by_id" and isinstance(data, dict):
        return f"Item **{data.get('title')}**: {data.get('description') or 'no description'} (`{data.get('id')}`)."
    if name in ("http_get", "http_post") and isinstance(data, dict):
        body = str(data.get("body", ""))[:300]
        verb = "GET" if name == "http_get" else "POST"
        return (
            f"`{verb} {data.get('url')}` answered {data.get('status_code')}"
            f" ({data.get('content_type') or 'no content type'}):\n```\n{body}\n```"
        )
    return f"`{name}` returned: {output[:500]}"


class OfflineChatModel(BaseChatModel):
    """Deterministic offline chat model with tools, structured output, streaming and usage."""

    model_name: str = "offline-demo"
    latency_ms: int = 0
    tokens_per_second: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools in OpenAI format, as real providers do."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    # --- the decision ---

    def _respond(self, messages: list[BaseMessage], **kwargs: Any) -> AIMessage:
        tools: list[dict[str, Any]] = kwargs.get("tools") or []
        tool_names = [t["function"]["name"] for t in tools]
        humans = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
        request = _text(messages[humans[-1]]) if humans else ""
        after = messages[humans[-1] + 1 :] if humans else []
        results = [m for m in after if isinstance(m, ToolMessage)]
        intents = [
            (n, a) for n, a in detect_intents(request) if n in tool_names or "Plan" in tool_names
        ]

        if kwargs.get("tool_choice") and tool_names == ["Plan"]:
            steps: list[dict[str, str | None]] = [
                {"description": f"Call {n} with {json.dumps(a)}", "tool": n} for n, a in intents
            ]
            steps.append(
                {
                    "description": "Answer the user from the results"
                    if intents
                    else "Answer directly",
                    "tool": None,
                }
            )
            return self._message("", [("Plan", {"steps": steps})], messages)
        if tool_names and intents and not results:
            return self._message("", intents, messages)
        if results:
            text = "\n\n".join(
                _summarise(m.name or "tool", _text(m), m.status == "error") for m in results
            )
            return self._message(text, [], messages)
        if MEMORY_RE.search(request) and len(humans) > 1:
            earlier = _text(messages[humans[0]])
            return self._message(
                f"Earlier in this conversation you said: \u201c{earlier}\u201d", [], messages
            )
        return self._message(HELP_TEXT, [], messages)

    def _message(
        self, text: str, calls: list[tuple[str, dict[str, Any]]], messages: list[BaseMessage]
    ) -> AIMessage:
        tool_calls = [
            {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}
            for name, args in calls
        ]
        prompt_tokens = sum(_count_tokens(_text(m)) for m in messages)
        completion_tokens = _count_tokens(text) + sum(
            _count_tokens(json.dumps(c["args"])) for c in tool_calls
        )
        usage = UsageMetadata(
            input_tokens=prompt_tokens,
            output_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )
        return AIMessage(
            content=text,
            tool_calls=tool_calls,
            usage_metadata=usage,
            response_metadata={
                "model_name": self.model_name,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            },
        )

    # --- generation ---

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        return ChatResult(generations=[ChatGeneration(message=self._respond(messages, **kwargs))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        return ChatResult(generations=[ChatGeneration(message=self._respond(messages, **kwargs))])

    def _chunks(self, message: AIMessage) -> Iterator[AIMessageChunk]:
        text = message.content if isinstance(message.content, str) else ""
        for piece in WORD_RE.findall(text):
            yield AIMessageChunk(content=piece)
        for index, call in enumerate(message.tool_calls):
            yield AIMessageChunk(
                content="",
                tool_call_chunks=[
                    {
                        "name": call["name"],
                        "args": json.dumps(call["args"]),
                        "id": call["id"],
                        "index": index,
                        "type": "tool_call_chunk",
                    }
                ],
            )
        yield AIMessageChunk(
            content="",
            usage_metadata=message.usage_metadata,
            response_metadata=message.response_metadata,
            chunk_position="last",
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        for chunk in self._chunks(self._respond(messages, **kwargs)):
            if self.tokens_per_second and chunk.content:
                time.sleep(1 / self.tokens_per_second)
            generation = ChatGenerationChunk(message=chunk)
            if run_manager and isinstance(chunk.content, str):
                run_manager.on_llm_new_token(chunk.content, chunk=generation)
            yield generation

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        for chunk in self._chunks(self._respond(messages, **kwargs)):
            if self.tokens_per_second and chunk.content:
                await asyncio.sleep(1 / self.tokens_per_second)
            generation = ChatGenerationChunk(message=chunk)
            if run_manager and isinstance(chunk.content, str):
                await run_manager.on_llm_new_token(chunk.content, chunk=generation)
            yield generation
