"""Fit a conversation into the model's context window, with a reserve for the answer.

Before every model call (planner, executor) the history goes through `fit_history`:
1. if it fits, it is sent as is;
2. else tool outputs of earlier turns are shortened (head and tail kept, the middle elided);
3. else the oldest turns are folded into a running summary, sent as one system note. The
   summary lives in the graph state (`ContextSummary`) and is reused by every later call; it is
   recomputed only when more turns must be folded in. It folds down to half the budget, so a
   thread that grows by a turn doesn't pay for a new summary on every turn;
4. else (one turn alone is too long) this turn's own tool outputs are shortened too, and then
   its earliest assistant steps folded.

Cuts fall before a user message (or, inside one long turn, before an assistant step), so a tool
call is never separated from its result. The state's messages are never changed: the thread
still shows every message; only what the model reads is fitted.

Token counts are offline: langchain-core's `count_tokens_approximately` (about 4 characters per
token, plus per-message overhead and the tool schemas), scaled up (at most 1.25×) by the usage the
provider reported on the latest answer when there is one. No tokenizer files are downloaded. The
tail that fits is chosen by langchain-core's `trim_messages` (binary search over the count,
`start_on="human"`), which gives exactly the "whole turns from the end" cut we need.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    trim_messages,
)
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.tools import BaseTool
from typing_extensions import TypedDict

from app.core.config import Settings

SUMMARY_NOTE = "Summary of the earlier part of this conversation (older messages are not shown):\n"
ELIDED = "\n[… {count} characters of this tool output omitted to fit the context window …]\n"
# Below this the system prompt and the tool schemas alone would crowd the conversation out.
MIN_INPUT_TOKENS = 1024
# Summaries may use at most this share of the input budget (and never more than the cap).
SUMMARY_SHARE, SUMMARY_CAP_TOKENS = 8, 1500
# Folding leaves the newest turns within this share of the budget, so it isn't redone each turn.
FOLD_TARGET = 0.5
CHARS_PER_TOKEN = 4.0
# Headroom for the approximation (real tokenizers and chat templates differ by a few percent).
SAFETY = 0.9

Tool = BaseTool | dict[str, Any]
# (summary so far or "", transcript of the messages to fold in, max tokens) -> the new summary
Summarise = Callable[[str, str, int], Awaitable[str]]


class ContextSummary(TypedDict):
    """The running summary of a thread's oldest messages, kept in the graph state."""

    text: str
    through: str  # id of the last message the summary covers
    folded: int  # how many messages it covers


class ContextOverflowError(Exception):
    """Even the newest message alone does not fit the configured context window."""


@dataclass(frozen=True)
class ContextBudget:
    """A model's context window and what is kept free for its answer."""

    window: int
    reserve: int
    tool_output_tokens: int = 500

    @property
    def input_limit(self) -> int:
        """Tokens the request (prompt, tools, history) may use, with SAFETY headroom."""
        return int((self.window - self.reserve) * SAFETY)

    @property
    def summary_tokens(self) -> int:
        """The longest summary, in tokens."""
        return max(32, min(SUMMARY_CAP_TOKENS, self.input_limit // SUMMARY_SHARE))


def context_window(config: Settings, model_name: str) -> int:
    """The model's window: the longest matching prefix of LLM_CONTEXT_WINDOWS, else the default."""
    matches = [prefix for prefix in config.LLM_CONTEXT_WINDOWS if model_name.startswith(prefix)]
    if not matches:
        return config.LLM_CONTEXT_WINDOW_DEFAULT
    return config.LLM_CONTEXT_WINDOWS[max(matches, key=len)]


def budget_for(config: Settings) -> ContextBudget:
    """The budget every call must fit: the smallest window of the model chain (the primary and
    its fallbacks: a fallback gets the same request)."""
    names = [spec.model for spec in config.model_chain]
    window = min(context_window(config, name) for name in names)
    budget = ContextBudget(window, config.LLM_MAX_TOKENS, config.AGENT_CONTEXT_TOOL_OUTPUT_TOKENS)
    if budget.input_limit < MIN_INPUT_TOKENS:
        raise ValueError(
            f"The context window of {', '.join(names)} ({window} tokens) leaves too little room "
            f"after LLM_MAX_TOKENS={config.LLM_MAX_TOKENS}: raise LLM_CONTEXT_WINDOWS for the "
            "model or lower LLM_MAX_TOKENS."
        )
    return budget


_tool_tokens: dict[tuple[str, ...], int] = {}


def tool_tokens(tools: Sequence[Tool]) -> int:
    """Approximate tokens of the tool schemas, cached by tool names: tools are rebuilt per run
    (they carry the caller's identity) with the same schemas, and deriving a BaseTool's schema
    costs milliseconds of CPU per tool."""
    if not tools:
        return 0
    key = tuple(str(t.get("name") if isinstance(t, dict) else t.name) for t in tools)
    if key not in _tool_tokens:
        if len(_tool_tokens) > 256:  # MCP servers can change their tools: stay bounded
            _tool_tokens.clear()
        _tool_tokens[key] = count_tokens_approximately([], tools=list(tools))
    return _tool_tokens[key]


def count_tokens(messages: Sequence[BaseMessage], tools: Sequence[Tool] = ()) -> int:
    """Approximate tokens of a request (see the module docstring)."""
    return count_tokens_approximately(messages, use_usage_metadata_scaling=True) + tool_tokens(
        tools
    )


def shorten(message: ToolMessage, max_tokens: int) -> ToolMessage:
    """The tool output cut to about `max_tokens`: its start and end kept, the middle elided."""
    text = message.text
    keep = int(max_tokens * CHARS_PER_TOKEN)
    if len(text) <= keep:
        return message
    head, tail = text[: keep * 3 // 4], text[len(text) - keep // 4 :]
    content = head + ELIDED.format(count=len(text) - len(head) - len(tail)) + tail
    return message.model_copy(update={"content": content})


def _shorten_tools(messages: list[AnyMessage], max_tokens: int, end: int) -> list[AnyMessage]:
    """`messages` with the tool outputs before index `end` shortened."""
    return [
        shorten(m, max_tokens) if i < end and isinstance(m, ToolMessage) else m
        for i, m in enumerate(messages)
    ]


def _last_turn_start(messages: Sequence[BaseMessage]) -> int:
    return next(
        (i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], HumanMessage)), 0
    )


def transcript(messages: Sequence[BaseMessage]) -> str:
    """Messages as plain text for the summariser (no tool-call pairing rules apply to text)."""
    lines: list[str] = []
    for message in messages:
        if isinstance(message, HumanMessage):
            lines.append(f"User: {message.text}")
        elif isinstance(message, AIMessage):
            calls = ", ".join(f"{c['name']}({c['args']})" for c in message.tool_calls)
            text = message.text + (f" [called {calls}]" if calls else "")
            lines.append(f"Assistant: {text}")
        elif isinstance(message, ToolMessage):
            lines.append(f"Tool {message.name or ''} result: {message.text}")
    return "\n".join(lines)


def live_messages(messages: list[AnyMessage], summary: ContextSummary | None) -> list[AnyMessage]:
    """The messages the summary doesn't cover (all of them without a usable summary)."""
    if not summary:
        return messages
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].id == summary["through"]:
            return messages[index + 1 :]
    return messages  # the summarised message is gone (a branch or an edit): start over


@dataclass
class Fitted:
    """What to send, and the summary to store when it changed (None: unchanged)."""

    messages: list[AnyMessage]
    summary: ContextSummary | None
    tokens: int


class ContextFitter:
    """Fits one request: the system prompt, the tools and the live history."""

    def __init__(
        self,
        budget: ContextBudget,
        prompt: SystemMessage,
        tools: Sequence[Tool],
        summarise: Summarise,
    ) -> None:
        self.budget = budget
        self.prompt = prompt
        self.tools = tools
        self.summarise = summarise

    def _base(self, summary: ContextSummary | None) -> list[AnyMessage]:
        if not summary:
            return [self.prompt]
        return [self.prompt, SystemMessage(SUMMARY_NOTE + summary["text"])]

    def _tokens(self, summary: ContextSummary | None, history: list[AnyMessage]) -> int:
        return count_tokens([*self._base(summary), *history], self.tools)

    async def fit(self, history: list[AnyMessage], summary: ContextSummary | None) -> Fitted:
        """Fit `history` (the live messages, repaired and fenced) after the summary so far."""
        limit = self.budget.input_limit
        tokens = self._tokens(summary, history)
        if tokens <= limit:
            return Fitted([*self._base(summary), *history], None, tokens)
        history = _shorten_tools(history, self.budget.tool_output_tokens, _last_turn_start(history))
        tokens = self._tokens(summary, history)
        if tokens <= limit:
            return Fitted([*self._base(summary), *history], None, tokens)
        return await self._fold(history, summary)

    async def _fold(self, history: list[AnyMessage], summary: ContextSummary | None) -> Fitted:
        """Fold the oldest turns into the summary until the rest fits within FOLD_TARGET."""
        room = self.budget.input_limit - self.budget.summary_tokens
        room -= count_tokens([self.prompt, SystemMessage(SUMMARY_NOTE)], self.tools)
        keep = self._tail(history, int(room * FOLD_TARGET), room)
        if keep is None:
            # The newest turn alone is too long: shorten its tool outputs too (the newest
            # step's last), then fold its earliest assistant steps.
            for end in (_last_ai_index(history), len(history)):
                history = _shorten_tools(history, self.budget.tool_output_tokens, end)
                keep = self._tail(history, room, room, inside_turn=True)
                if keep is not None:
                    break
        if keep == len(history):  # shortening was enough
            return Fitted([*self._base(summary), *history], None, self._tokens(summary, history))
        through = next(
            (m.id for m in reversed(history[: len(history) - (keep or 0)]) if m.id), None
        )
        if keep is None or through is None:
            raise ContextOverflowError(
                f"The newest message does not fit a context window of {self.budget.window} "
                f"tokens (LLM_MAX_TOKENS={self.budget.reserve} reserved for the answer)."
            )
        cut = len(history) - keep
        text = await self._summarise(summary["text"] if summary else "", history[:cut])
        new_summary = ContextSummary(
            text=text,
            through=str(through),
            folded=(summary["folded"] if summary else 0) + cut,
        )
        kept = history[cut:]
        return Fitted(
            [*self._base(new_summary), *kept], new_summary, self._tokens(new_summary, kept)
        )

    def _tail(
        self, messages: list[AnyMessage], target: int, room: int, *, inside_turn: bool = False
    ) -> int | None:
        """How many of the newest messages to keep: whole turns within `target` tokens (at
        least the newest turn when it fits `room`); inside one turn, whole assistant steps.
        None when not even that fits."""
        start_on: Any = ("human", "ai") if inside_turn else "human"
        for budget in (target, room):
            kept = trim_messages(
                messages,
                max_tokens=budget,
                token_counter=count_tokens,
                strategy="last",
                start_on=start_on,
                allow_partial=False,
            )
            if kept:
                return len(kept)
        return None

    async def _summarise(self, previous: str, folded: list[AnyMessage]) -> str:
        """The summary with `folded` added, in chunks the summariser's own window takes."""
        chunk_chars = int(
            (self.budget.input_limit - 2 * self.budget.summary_tokens) * CHARS_PER_TOKEN * 0.8
        )
        text = transcript(folded)
        summary = previous
        for start in range(0, len(text), chunk_chars):
            summary = await self.summarise(
                summary, text[start : start + chunk_chars], self.budget.summary_tokens
            )
            limit_chars = int(self.budget.summary_tokens * CHARS_PER_TOKEN)
            summary = summary[:limit_chars]  # a summariser that ignores the length is cut
        return summary


def _last_ai_index(messages: Sequence[BaseMessage]) -> int:
    return next(
        (i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], AIMessage)),
        len(messages),
    )
