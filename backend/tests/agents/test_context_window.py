"""Long conversations against a small context window: every request the model server receives
fits, tool calls stay with their results, and the summary is made once and then reused."""

import io
import json
import math
import zipfile
from typing import Any

import pytest

from app.agents.context import SUMMARY_NOTE
from tests.agents.conftest import openai_stub_settings
from tests.fakes.llm_script import structured, text, tool_call
from tests.utils import API, create_item, create_user_and_login

WINDOW = 2000
MAX_TOKENS = 300


def wire_tokens(body: dict[str, Any]) -> int:
    """Tokens of a request as received, counted independently of the app's counter: OpenAI's
    cookbook rule (4 tokens per message of template overhead), 4 characters a token for the
    text, tool calls and tool schemas."""
    chars, overhead = 0, 0
    for message in body["messages"]:
        overhead += 4
        content = message.get("content") or ""
        chars += len(content if isinstance(content, str) else json.dumps(content))
        for call in message.get("tool_calls") or []:
            chars += len(call["function"]["name"]) + len(call["function"]["arguments"])
    chars += len(json.dumps(body.get("tools") or []))
    return math.ceil(chars / 4) + overhead + 3


def tool_names(body: dict[str, Any]) -> set[str]:
    return {tool["function"]["name"] for tool in body.get("tools") or []}


def summary_notes(body: dict[str, Any]) -> list[str]:
    return [
        m["content"]
        for m in body["messages"]
        if m["role"] == "system" and str(m.get("content", "")).startswith(SUMMARY_NOTE)
    ]


def assert_paired(body: dict[str, Any]) -> None:
    """Every tool call is answered right after its assistant message, and every tool result
    answers a call of the assistant message before it."""
    messages = body["messages"]
    for index, message in enumerate(messages):
        if message["role"] == "tool":
            owner = next(m for m in reversed(messages[:index]) if m["role"] != "tool")
            assert owner["role"] == "assistant", messages
            assert message["tool_call_id"] in {c["id"] for c in owner.get("tool_calls") or []}
        for call in message.get("tool_calls") or []:
            answers = [
                m["tool_call_id"]
                for m in messages[index + 1 :]
                if m["role"] == "tool" and m["tool_call_id"] == call["id"]
            ]
            assert answers == [call["id"]], f"call {call['id']} unanswered in {messages}"


class Responder:
    """Plans nothing, looks items up when asked about items, answers, and numbers summaries."""

    def __init__(self) -> None:
        self.summaries: list[str] = []

    def __call__(self, body: dict[str, Any]) -> Any:
        names = tool_names(body)
        if "ConversationSummary" in names:
            summary = f"SUMMARY-{len(self.summaries) + 1}: the user asked about items often."
            self.summaries.append(summary)
            return structured({"summary": summary})
        if "Plan" in names:
            return structured({"steps": []})
        last = body["messages"][-1]
        if last["role"] == "tool":
            return text("Here are your items, as the tool listed them.")
        if "items" in str(last.get("content")):
            return tool_call("lookup_user_items", {"limit": 6})
        return text("Noted. " + "x" * 200)


@pytest.fixture
def small_window(agent_settings, openai_stub) -> Any:
    agent_settings(
        **openai_stub_settings(openai_stub),
        LLM_CONTEXT_WINDOWS={"stub-model": WINDOW},
        LLM_MAX_TOKENS=MAX_TOKENS,
        AGENT_CONTEXT_TOOL_OUTPUT_TOKENS=60,
    )
    return openai_stub


async def test_long_thread_fits_a_small_window(small_window, fresh_client_factory) -> None:
    responder = Responder()
    small_window.set_responder(responder)
    async with fresh_client_factory() as client:
        headers, user = await create_user_and_login(client)
        for number in range(6):
            await create_item(user.id, title=f"Item {number} " + "long title words " * 12)
        thread_id = None
        for turn in range(14):
            topic = "show my items" if turn % 2 == 0 else "tell me something"
            message = f"Turn {turn}: {topic}. " + "Some context I keep repeating. " * 12
            body = {"message": message} | ({"thread_id": thread_id} if thread_id else {})
            response = await client.post(f"{API}/agent/run", json=body, headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "success", response.json()
            thread_id = response.json()["thread_id"]
        state = await client.get(f"{API}/agent/threads/{thread_id}", headers=headers)
        assert state.status_code == 200
        # The thread still shows every turn: only what the model reads was fitted.
        shown = [m for m in state.json()["messages"] if m["role"] == "user"]
        assert len(shown) == 14
        # The user's data export carries the summary the agent keeps about the thread.
        export = await client.get(f"{API}/users/me/export", headers=headers)
        with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
            exported = json.loads(archive.read(f"threads/{thread_id}.json"))
        assert exported["context_summary"]["text"] == responder.summaries[-1]

    requests = small_window.requests
    assert len(requests) > 28
    for body in requests:
        assert wire_tokens(body) + body["max_completion_tokens"] <= WINDOW, wire_tokens(body)
        assert body["max_completion_tokens"] == MAX_TOKENS
        assert_paired(body)
        assert len(summary_notes(body)) <= 1

    # Summaries were made, far fewer than the model calls that carried one (reused).
    made = [i for i, body in enumerate(requests) if "ConversationSummary" in tool_names(body)]
    carrying = [i for i, body in enumerate(requests) if summary_notes(body)]
    assert 1 <= len(made) <= 14 // 2, len(made)
    assert len(carrying) >= 3 * len(made), (made, carrying)
    # Every note carries the newest summary made before it, verbatim: never recomputed per call.
    for index in carrying:
        latest = sum(1 for i in made if i < index)
        assert latest >= 1
        assert summary_notes(requests[index])[0] == SUMMARY_NOTE + responder.summaries[latest - 1]
    # ... and each one is reused by later calls (later turns included), not made per call.
    for k, index in enumerate(made):
        users = [
            i
            for i in carrying
            if i > index and summary_notes(requests[i])[0].endswith(responder.summaries[k])
        ]
        assert len(users) >= 3, (k, made, carrying)
    # A later summary folds the earlier one in (it was sent to the summariser).
    for k, index in enumerate(made[1:], start=1):
        sent = json.dumps(requests[index]["messages"])
        assert responder.summaries[k - 1] in sent
    # The first turn's words reached the model only until they were summarised.
    last_body = json.dumps(requests[-1]["messages"])
    assert "Turn 0:" not in last_body and "Turn 13:" in last_body


async def test_a_message_too_long_for_the_window_is_refused_clearly(
    small_window, agent_settings, fresh_client_factory
) -> None:
    agent_settings(AGENT_MAX_INPUT_CHARS=20_000)
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        message = "A very long message. " * 700  # ~3,700 tokens, the window is 2,000
        response = await client.post(f"{API}/agent/run", json={"message": message}, headers=headers)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "budget_exceeded"
        assert "context window of 2000 tokens" in body["detail"]
        assert body["run"]["status"] == "error"
    assert small_window.requests == []  # nothing was sent that the model would refuse
