"""The context fitter on its own: windows per model, shortening, folding, reuse, pairing."""

from typing import Any

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage

from app.agents.context import (
    SUMMARY_NOTE,
    ContextBudget,
    ContextFitter,
    budget_for,
    context_window,
    count_tokens,
    live_messages,
)
from app.core.config import Settings

PROMPT = SystemMessage("You are a helpful assistant.")


class Summaries:
    """Records every summarise call and answers with a numbered summary."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, previous: str, transcript: str, max_tokens: int) -> str:
        self.calls.append((previous, transcript))
        return f"summary {len(self.calls)}"


def turn(n: int, tool_chars: int = 0) -> list[AnyMessage]:
    messages: list[AnyMessage] = [HumanMessage(f"question {n} " + "q" * 200, id=f"h{n}")]
    if tool_chars:
        call = {"name": "lookup", "args": {}, "id": f"call{n}"}
        messages += [
            AIMessage("", tool_calls=[call], id=f"c{n}"),
            ToolMessage("r" * tool_chars, tool_call_id=f"call{n}", name="lookup", id=f"t{n}"),
        ]
    return [*messages, AIMessage(f"answer {n} " + "a" * 200, id=f"a{n}")]


def settings(**values: Any) -> Settings:
    return Settings(LLM_MODEL_PROVIDER="openai", **values)


def test_windows_by_longest_prefix_and_overrides() -> None:
    config = settings(LLM_CONTEXT_WINDOWS={"gpt-4o-mini": 64_000})
    assert context_window(config, "gpt-4o-mini-2024") == 64_000
    assert context_window(config, "gpt-4o") == 128_000
    assert context_window(config, "claude-sonnet-4") == 200_000
    assert context_window(config, "my-local-llama") == config.LLM_CONTEXT_WINDOW_DEFAULT
    fallback = settings(LLM_MODEL_NAME="gpt-4o", LLM_FALLBACK_MODEL_NAME="gpt-4")
    assert budget_for(fallback).window == 8_192  # the smaller of the two
    with pytest.raises(ValueError, match="LLM_MAX_TOKENS"):
        budget_for(settings(LLM_MODEL_NAME="gpt-4", LLM_MAX_TOKENS=7_500))


async def test_what_fits_is_sent_as_is() -> None:
    summaries = Summaries()
    history = [*turn(1), *turn(2)]
    fitted = await ContextFitter(ContextBudget(4000, 500), PROMPT, [], summaries).fit(history, None)
    assert fitted.messages == [PROMPT, *history] and fitted.summary is None
    assert summaries.calls == []


async def test_old_tool_outputs_are_shortened_before_anything_is_summarised() -> None:
    summaries = Summaries()
    budget = ContextBudget(2000, 300, tool_output_tokens=50)
    history = [*turn(1, tool_chars=8000), *turn(2)]
    fitted = await ContextFitter(budget, PROMPT, [], summaries).fit(history, None)
    assert summaries.calls == [] and fitted.summary is None
    tool = next(m for m in fitted.messages if isinstance(m, ToolMessage))
    assert len(tool.text) < 400 and "omitted" in tool.text
    assert fitted.tokens <= budget.input_limit


async def test_one_huge_tool_output_in_the_only_turn_is_shortened() -> None:
    budget = ContextBudget(2000, 300, tool_output_tokens=50)
    history = turn(1, tool_chars=20_000)[:-1]  # the executor's call after the tool result
    fitted = await ContextFitter(budget, PROMPT, [], Summaries()).fit(history, None)
    assert fitted.tokens <= budget.input_limit
    assert count_tokens(fitted.messages) <= budget.input_limit
    assert isinstance(fitted.messages[-1], ToolMessage)


async def test_folding_keeps_pairs_and_the_summary_is_reused() -> None:
    summaries = Summaries()
    budget = ContextBudget(2000, 300, tool_output_tokens=50)
    fitter = ContextFitter(budget, PROMPT, [], summaries)
    messages: list[AnyMessage] = [m for n in range(12) for m in turn(n, tool_chars=600)]
    messages.append(HumanMessage("the newest question", id="h-new"))

    first = await fitter.fit(messages, None)
    made = len(summaries.calls)  # a long stretch is summarised in chunks, each on the last
    assert made >= 1 and first.summary is not None
    assert [previous for previous, _ in summaries.calls] == [""] + [
        f"summary {n}" for n in range(1, made)
    ]
    assert first.messages[1] == SystemMessage(SUMMARY_NOTE + f"summary {made}")
    assert first.tokens <= budget.input_limit
    sent = first.messages[2:]
    assert isinstance(sent[0], HumanMessage)  # cut at a turn
    assert "question 0" in summaries.calls[0][1]  # the oldest turn went into the summary
    calls = {c["id"] for m in sent if isinstance(m, AIMessage) for c in m.tool_calls}
    results = {m.tool_call_id for m in sent if isinstance(m, ToolMessage)}
    assert calls == results

    # The next call on the same state reads the stored summary and the messages after it.
    live = live_messages(messages, first.summary)
    assert live[0].id == sent[0].id
    again = await fitter.fit(live, first.summary)
    assert len(summaries.calls) == made and again.summary is None
    assert again.messages[:2] == first.messages[:2]  # the same note
    assert [m.id for m in again.messages[2:]] == [m.id for m in sent]
    assert again.tokens <= budget.input_limit

    # A summary whose message is gone (another branch) no longer applies.
    assert live_messages(messages[:3], first.summary) == messages[:3]
