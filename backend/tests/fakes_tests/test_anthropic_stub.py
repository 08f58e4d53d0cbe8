"""The Anthropic messages stub, driven by the real langchain-anthropic ChatAnthropic client."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import tool
from pydantic import BaseModel

from tests.fakes.anthropic_server import AnthropicStub
from tests.fakes.llm_script import Reply, ToolCall, Usage, error, text, tool_call


def chat(stub: AnthropicStub, **options: Any) -> ChatAnthropic:
    """ChatAnthropic pointed at the stub."""
    return ChatAnthropic(
        model_name="claude-test",
        base_url=stub.url,
        api_key="test",
        max_retries=0,
        timeout=5.0,
        **options,
    )


@tool
def lookup_user_items(limit: int) -> str:
    """Look up the current user's items."""
    return "[]"


def stream(model: Runnable[Any, Any], prompt: Any) -> list[AIMessageChunk]:
    """Collect a model's streamed chunks."""
    chunks = list(model.stream(prompt))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    return chunks


def join(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    """Add streamed chunks up the way LangChain does."""
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return total


def test_invoke_returns_text_and_usage(anthropic_stub: AnthropicStub) -> None:
    anthropic_stub.enqueue(text("Bonjour!", usage=Usage(15, 3)))
    answer = chat(anthropic_stub).invoke("Say hello in French")
    assert answer.content == "Bonjour!"
    assert answer.usage_metadata is not None
    assert (answer.usage_metadata["input_tokens"], answer.usage_metadata["output_tokens"]) == (
        15,
        3,
    )
    request = anthropic_stub.requests[0]
    assert request["model"] == "claude-test"
    assert request["messages"] == [{"role": "user", "content": "Say hello in French"}]


def test_stream_text_and_usage(anthropic_stub: AnthropicStub) -> None:
    anthropic_stub.enqueue(text("streaming works fine", chunk_size=5, usage=Usage(8, 4)))
    chunks = stream(chat(anthropic_stub), "go")
    pieces = [c.content for c in chunks if c.content]
    assert pieces == ["strea", "ming ", "works", " fine"]
    total = join(chunks)
    assert total.content == "streaming works fine"
    assert total.usage_metadata is not None and total.usage_metadata["total_tokens"] == 12


def test_tool_use_plain_and_streamed(anthropic_stub: AnthropicStub) -> None:
    model = chat(anthropic_stub).bind_tools([lookup_user_items])
    anthropic_stub.enqueue(
        tool_call("lookup_user_items", {"limit": 2}),
        Reply(
            text="Checking.",
            tool_calls=[ToolCall("lookup_user_items", {"limit": 40})],
            chunk_size=4,
        ),
    )
    answer = model.invoke("show my items")
    assert [(c["name"], c["args"]) for c in answer.tool_calls] == [
        ("lookup_user_items", {"limit": 2})
    ]
    chunks = stream(model, "show my items")
    assert len([c for c in chunks if c.tool_call_chunks]) > 2  # input_json_delta pieces
    total = join(chunks)
    assert [(c["name"], c["args"]) for c in total.tool_calls] == [
        ("lookup_user_items", {"limit": 40})
    ]
    assert total.response_metadata["stop_reason"] == "tool_use"
    assert anthropic_stub.requests[0]["tools"][0]["name"] == "lookup_user_items"


class Answer(BaseModel):
    verdict: str
    score: float


def test_structured_output_in_auto_mode(anthropic_stub: AnthropicStub) -> None:
    result = chat(anthropic_stub).with_structured_output(Answer).invoke("judge this")
    assert result == Answer(verdict="stub", score=1.0)
    assert anthropic_stub.requests[0]["tool_choice"]["name"] == "Answer"


def test_errors_surface_as_anthropic_errors(anthropic_stub: AnthropicStub) -> None:
    anthropic_stub.enqueue(error(429, "slow down", retry_after=1), error(529, "overloaded"))
    with pytest.raises(anthropic.RateLimitError):
        chat(anthropic_stub).invoke("hi")
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        chat(anthropic_stub).invoke("hi")
    assert overloaded.value.status_code == 529


def test_auto_mode_tool_loop(anthropic_stub: AnthropicStub) -> None:
    model = chat(anthropic_stub).bind_tools([lookup_user_items])
    first = model.invoke([HumanMessage("what items do I have?")])
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [
        ("lookup_user_items", {"limit": 1})
    ]
    result = ToolMessage('["lamp"]', tool_call_id=first.tool_calls[0]["id"])
    final = model.invoke([HumanMessage("what items do I have?"), first, result])
    assert final.content == 'Done. Tool result: ["lamp"]'
    assert chat(anthropic_stub).invoke("hi").content == "Stub reply to: hi"
