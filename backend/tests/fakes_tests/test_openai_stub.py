"""The OpenAI-compatible stub, driven by the real langchain-openai ChatOpenAI client."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

import httpx
import openai
import pytest
from langchain_core.exceptions import ModelRefusalError
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import Runnable
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from tests.fakes.background import closed_port
from tests.fakes.llm_script import (
    Reply,
    ToolCall,
    Usage,
    error,
    refusal,
    structured,
    text,
    tool_call,
)
from tests.fakes.openai_server import OpenAIStub

BACKEND_DIR = Path(__file__).resolve().parents[2]


def chat(stub: OpenAIStub, **options: Any) -> ChatOpenAI:
    """ChatOpenAI configured the way the app talks to OpenAI-compatible servers."""
    settings: dict[str, Any] = {"timeout": 5.0} | options
    return ChatOpenAI(
        model="gpt-test",
        base_url=stub.base_url,
        api_key="test",
        stream_usage=True,
        use_responses_api=False,
        max_retries=0,
        **settings,
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


def test_invoke_returns_scripted_text_and_usage(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(text("Paris is the capital of France.", usage=Usage(12, 7)))
    answer = chat(openai_stub).invoke([HumanMessage("Capital of France?")])
    assert answer.content == "Paris is the capital of France."
    assert answer.usage_metadata is not None
    assert (answer.usage_metadata["input_tokens"], answer.usage_metadata["total_tokens"]) == (
        12,
        19,
    )
    [request] = openai_stub.requests
    assert request["model"] == "gpt-test"
    assert request["messages"] == [{"role": "user", "content": "Capital of France?"}]


def test_stream_yields_chunks_and_final_usage(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(text("one two three four five", chunk_size=4, usage=Usage(9, 5)))
    chunks = stream(chat(openai_stub), "count")
    contents = [chunk.content for chunk in chunks if chunk.content]
    assert contents == ["one ", "two ", "thre", "e fo", "ur f", "ive"]
    assert join(chunks).usage_metadata == {
        "input_tokens": 9,
        "output_tokens": 5,
        "total_tokens": 14,
        "input_token_details": {},
        "output_token_details": {},
    }
    assert openai_stub.requests[0]["stream_options"] == {"include_usage": True}


def test_tool_calls_plain_and_streamed(openai_stub: OpenAIStub) -> None:
    model = chat(openai_stub).bind_tools([lookup_user_items])
    openai_stub.enqueue(
        tool_call("lookup_user_items", {"limit": 3}),
        Reply(tool_calls=[ToolCall("lookup_user_items", {"limit": 25}, id="call_x")], chunk_size=3),
    )
    answer = model.invoke("show my items")
    assert [(c["name"], c["args"]) for c in answer.tool_calls] == [
        ("lookup_user_items", {"limit": 3})
    ]
    chunks = stream(model, "show my items")
    argument_pieces = [c.tool_call_chunks[0]["args"] for c in chunks if c.tool_call_chunks]
    assert len(argument_pieces) > 2
    assert join(chunks).tool_calls == [
        {"name": "lookup_user_items", "args": {"limit": 25}, "id": "call_x", "type": "tool_call"}
    ]
    assert openai_stub.requests[0]["tools"][0]["function"]["name"] == "lookup_user_items"


class Plan(BaseModel):
    reasoning: str
    steps: list[str]


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_structured_output_returns_scripted_json(
    openai_stub: OpenAIStub, method: Literal["function_calling", "json_schema"]
) -> None:
    openai_stub.enqueue(structured({"reasoning": "look first", "steps": ["lookup_user_items"]}))
    plan = chat(openai_stub).with_structured_output(Plan, method=method).invoke("plan it")
    assert plan == Plan(reasoning="look first", steps=["lookup_user_items"])


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_structured_output_raises_on_a_refusal(
    openai_stub: OpenAIStub, method: Literal["function_calling", "json_schema"]
) -> None:
    """langchain-openai 1.7.4 raises for a refusal whatever the method (function calling used
    to parse it to None); the planner relies on this error type."""
    openai_stub.enqueue(refusal("I can't help with that."))
    model = chat(openai_stub).with_structured_output(Plan, method=method)
    with pytest.raises(ModelRefusalError, match="I can't help with that"):
        model.invoke("plan it")
    openai_stub.enqueue(refusal("no"))
    assert chat(openai_stub).invoke("hi").content_blocks[-1] == {"type": "refusal", "refusal": "no"}


def test_errors_surface_as_openai_errors(openai_stub: OpenAIStub) -> None:
    model = chat(openai_stub, timeout=0.5)
    openai_stub.enqueue(error(429, "slow down", retry_after=2), error(500, "boom"))
    with pytest.raises(openai.RateLimitError) as limited:
        model.invoke("hi")
    assert limited.value.response.headers["retry-after"] == "2"
    with pytest.raises(openai.InternalServerError):
        model.invoke("hi")
    openai_stub.enqueue(text("too late", delay=1.5))
    with pytest.raises(openai.APITimeoutError):
        model.invoke("hi")


def test_stream_cut_off_mid_way_raises(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(text("a long answer that never finishes", chunk_size=3, cut_after=4))
    received: list[str] = []
    with pytest.raises((openai.APIConnectionError, httpx.RemoteProtocolError)):
        for chunk in chat(openai_stub).stream("hi"):
            received.append(str(chunk.content))
    assert "".join(received) == "a long an"  # role frame + 3 text frames, then the drop


def test_auto_mode(openai_stub: OpenAIStub) -> None:
    model = chat(openai_stub).bind_tools([lookup_user_items])
    assert chat(openai_stub).invoke("hello there").content == "Stub reply to: hello there"
    first = model.invoke([HumanMessage("show my items")])
    assert [c["name"] for c in first.tool_calls] == ["lookup_user_items"]
    assert first.tool_calls[0]["args"] == {"limit": 1}  # sampled from the required argument
    result = ToolMessage('[{"title": "pen"}]', tool_call_id=first.tool_calls[0]["id"])
    final = model.invoke([HumanMessage("show my items"), first, result])
    assert final.content == 'Done. Tool result: [{"title": "pen"}]'
    assert isinstance(final, AIMessage) and not final.tool_calls
    after_plan = model.invoke([HumanMessage("list my items"), SystemMessage("Plan: call a tool")])
    assert [c["name"] for c in after_plan.tool_calls] == ["lookup_user_items"]


def test_responder_and_models(openai_stub: OpenAIStub) -> None:
    openai_stub.set_responder(lambda body: text(f"{len(body['messages'])} messages seen"))
    answer = chat(openai_stub).invoke([HumanMessage("a"), AIMessage("b"), HumanMessage("c")])
    assert answer.content == "3 messages seen"
    models = httpx.get(f"{openai_stub.base_url}/models").json()
    assert [m["id"] for m in models["data"]] == ["stub-model"]
    bad = httpx.post(f"{openai_stub.base_url}/chat/completions", content=b"{")
    assert bad.status_code == 400 and "messages" in bad.json()["error"]["message"]


def test_stats_report_time_spent_answering(openai_stub: OpenAIStub) -> None:
    """The benchmarks' model time: /stats grows by the time taken to answer, latency included."""
    stats_url = f"{openai_stub.url}/stats"
    before = httpx.get(stats_url).json()["busy_ms"]
    openai_stub.script.latency = 0.05
    chat(openai_stub).invoke([HumanMessage("hi")])
    spent = httpx.get(stats_url).json()["busy_ms"] - before
    # asyncio may wake a timer up to its clock resolution early: 50 ms can measure as 49.97.
    assert 49 <= spent < 5000
    openai_stub.reset()
    assert openai_stub.script.busy_seconds == 0.0


def test_standalone_server_answers_in_auto_mode() -> None:
    port = closed_port()
    command = [sys.executable, "-m", "tests.fakes.openai_server", "--port", str(port)]
    process = subprocess.Popen(command, cwd=BACKEND_DIR, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                models = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "standalone stub did not start"
                time.sleep(0.1)
        assert models.status_code == 200
        body = {"model": "m", "messages": [{"role": "user", "content": "ping"}]}
        reply = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body).json()
        assert reply["choices"][0]["message"]["content"] == "Stub reply to: ping"
        assert json.loads(json.dumps(reply["usage"]))["total_tokens"] >= 2
    finally:
        process.terminate()
        process.wait(timeout=10)
