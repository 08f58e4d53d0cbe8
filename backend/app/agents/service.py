"""Run the planner/executor graph for one prepared run and yield its events.

Nothing here knows about HTTP, queues or run records: `app.services.runs` prepares a run,
executes it on a worker through `AgentService.run`, and records what it yields.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler, UsageMetadataCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointMetadata, empty_checkpoint
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Durability, StateSnapshot, StreamMode
from pydantic_core import to_jsonable_python
from redis.asyncio import Redis

from app.agents.context import budget_for
from app.agents.graph import AgentContext, build_graph
from app.agents.guardrails import GuardrailBlockedError, build_guardrails
from app.agents.llm import ChatModels, create_chat_models
from app.agents.mcp.manager import McpManager
from app.agents.model_chain import CallScope, ModelUse
from app.agents.schemas import (
    ApprovalRequest,
    ApprovalRequiredEvent,
    LoggedStreamEvent,
    PlanEvent,
    PlanStep,
    StateEvent,
    StreamEvent,
    TokenEvent,
    ToolCallEvent,
    ToolResultEvent,
)
from app.agents.tools import ToolContext, approval_required_tools, build_tools
from app.core.config import Settings
from app.core.db import SessionMaker
from app.crud import checkpoint as crud_checkpoint
from app.models import ToolCallRecord


@dataclass
class GraphRun:
    """One execution of the graph: a new message, or a decision resuming a paused run."""

    run_id: uuid.UUID
    thread_id: uuid.UUID
    user_id: uuid.UUID
    is_superuser: bool
    message: str
    resume: dict[str, Any] | None = None
    callbacks: list[BaseCallbackHandler] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    stream_tokens: bool = True
    # Agent Protocol runs (app.services.protocol):
    checkpoint_id: str | None = None  # run from this checkpoint of the thread (a branch)
    has_input: bool = True  # False: continue from the checkpoint with no new message
    command: dict[str, Any] | None = None  # {"goto": node}; `message` is the update
    state_modes: frozenset[str] = frozenset()  # "values"/"updates": logged as StateEvents
    durability: Durability = "exit"
    # `time.monotonic()` by which the run must end: model calls (retries and fallbacks
    # included) are cut to fit it.
    deadline: float | None = None


@dataclass
class GraphOutcome:
    """What a run produced, accumulated from the graph's updates while it runs."""

    response: str | None = None
    plan: str | None = None
    stop_reason: str | None = None
    tool_calls: dict[str, ToolCallRecord] = field(default_factory=dict)
    pending: ApprovalRequest | None = None
    malformed_calls: list[str] = field(default_factory=list)  # tool calls that didn't parse
    usage: "UsageHandler" = field(default_factory=lambda: UsageHandler())
    models: ModelUse = field(default_factory=ModelUse)  # who answered; degraded or not

    def token_totals(self) -> dict[str, int]:
        """Input, output and total tokens over every model call of this execution."""
        return self.usage.totals()


class UsageHandler(UsageMetadataCallbackHandler):
    """Token usage per model, recorded inline: LangChain hands every event of a sync handler
    that isn't `run_inline` to a thread pool, and those hops cost more CPU than the run."""

    run_inline = True

    @property
    def ignore_chain(self) -> bool:
        """Graph nodes and runnables (two events each, a dozen per run) aren't its concern."""
        return True

    @property
    def ignore_agent(self) -> bool:
        """Nor are tool calls."""
        return True

    def totals(self) -> dict[str, int]:
        """Input, output and total tokens over every model call it saw."""
        totals = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        for model_usage in self.usage_metadata.values():
            totals["input_tokens"] += model_usage.get("input_tokens", 0)
            totals["output_tokens"] += model_usage.get("output_tokens", 0)
            totals["total_tokens"] += model_usage.get("total_tokens", 0)
        return totals


# The checkpoint a thread's first turn starts from: LangGraph's own step -1 "input" checkpoint
# (which durability "exit" doesn't save), with an empty state.
ROOT_METADATA: CheckpointMetadata = {"source": "input", "step": -1, "parents": {}}


def message_id(run_id: uuid.UUID) -> str:
    """The id of a run's user message in the checkpoint, so a thread's turns map to runs."""
    return f"run-{run_id}"


class AgentService:
    """The compiled graph and the models; one instance per process, created at start-up."""

    def __init__(
        self,
        config: Settings,
        checkpointer: BaseCheckpointSaver[Any] | None,
        mcp: McpManager | None = None,
        redis: Redis | None = None,
    ) -> None:
        self.settings = config
        self.models: ChatModels = create_chat_models(config, redis)
        self.budget = budget_for(config)  # a window too small for LLM_MAX_TOKENS fails here
        self.checkpointer = checkpointer
        self.mcp = mcp
        self.graph: CompiledStateGraph[Any, Any, Any, Any] = build_graph(checkpointer)

    def tools_for(self, user_id: uuid.UUID, is_superuser: bool) -> list[BaseTool]:
        """The built-in tools (with the caller's identity) and the MCP tools available now."""
        builtin = build_tools(
            ToolContext(
                user_id=user_id,
                is_superuser=is_superuser,
                session_factory=SessionMaker,
                settings=self.settings,
            )
        )
        return [*builtin, *(self.mcp.tools_for(str(user_id)) if self.mcp else [])]

    async def run(self, run: GraphRun, outcome: GraphOutcome) -> AsyncIterator[LoggedStreamEvent]:
        """Execute the graph, yield events as they happen and fill `outcome`.

        Raises what the graph raises (model errors, timeouts, GraphRecursionError, cancellation).
        """
        configurable = {"thread_id": str(run.thread_id)}
        if run.checkpoint_id is not None:
            configurable["checkpoint_id"] = run.checkpoint_id
        config: RunnableConfig = {
            "configurable": configurable,
            "recursion_limit": self.settings.AGENT_RECURSION_LIMIT,
            "callbacks": [outcome.usage, *run.callbacks],
            "metadata": run.metadata,
            "run_name": "agent_run",
        }
        tools = self.tools_for(run.user_id, run.is_superuser)
        context = AgentContext(
            models=self.models,
            tools=tools,
            max_tool_calls=self.settings.AGENT_MAX_TOOL_CALLS,
            approval_tools=approval_required_tools(tools, self.settings),
            guardrails=build_guardrails(self.settings),
            http_allowed_hosts=tuple(self.settings.AGENT_HTTP_ALLOWED_HOSTS),
            stream_tokens=run.stream_tokens,
            budget=self.budget,
            calls=CallScope(run.deadline, outcome.models),
        )
        inputs = self._inputs(run)
        # The model is streamed only when a client streams (app.agents.model_call parses both
        # kinds of answer alike); tokens come from "custom": the executor's text after the
        # output guardrails redacted it.
        modes: list[StreamMode] = ["updates", "custom"] if run.stream_tokens else ["updates"]
        if "values" in run.state_modes:
            modes.append("values")
        values: dict[str, Any] = {}
        # durability="exit": one checkpoint write per run instead of one per step (and the
        # thread's root before its first turn). A run that dies midway is recorded
        # `interrupted` and its turn isn't replayed anyway.
        await self._put_root(run)
        try:
            async for mode, data in self.graph.astream(
                inputs, config, context=context, stream_mode=modes, durability=run.durability
            ):
                if mode == "values":
                    values = jsonable(data)
                    yield StateEvent(mode="values", data=values)
                    continue
                if mode == "updates" and "updates" in run.state_modes:
                    yield StateEvent(mode="updates", data=jsonable(data))
                for event in translate(mode, data, outcome, run.run_id):
                    yield event
                if mode == "updates" and "__interrupt__" in data and "values" in run.state_modes:
                    # Protocol clients find a pause in the state: `values` with `__interrupt__`.
                    paused = jsonable(data)["__interrupt__"]
                    yield StateEvent(mode="values", data={**values, "__interrupt__": paused})
        except GuardrailBlockedError:
            await self._drop_message(run)
            raise

    async def _put_root(self, run: GraphRun) -> None:
        """Give a thread's first turn an empty checkpoint to start from, as LangGraph's step -1
        "input" checkpoint is with the other durabilities: the first message then has a parent
        checkpoint, so it can be edited or answered again (a branch) like any later one."""
        if self.checkpointer is None or run.durability != "exit":
            return
        if run.checkpoint_id is not None or run.resume is not None:
            return  # a run from a given checkpoint, or resuming one: the thread has state
        thread_id = str(run.thread_id)
        if await crud_checkpoint.has_checkpoint(self.checkpointer, thread_id):
            return
        config: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        await self.checkpointer.aput(config, empty_checkpoint(), ROOT_METADATA.copy(), {})

    def _inputs(self, run: GraphRun) -> Any:
        """What the graph starts from: a decision, a command, a new message, or nothing."""
        if run.resume is not None:
            return Command(resume=run.resume)
        if run.command is not None:  # `goto` a node, with the new message (if any) added
            update = (
                {
                    "messages": [HumanMessage(run.message, id=message_id(run.run_id))],
                    "user_id": str(run.user_id),
                }
                if run.message
                else None
            )
            return Command(update=update, goto=run.command.get("goto") or ())
        if not run.has_input:
            return None
        return {
            "messages": [HumanMessage(run.message, id=message_id(run.run_id))],
            "user_id": str(run.user_id),
        }

    async def _drop_message(self, run: GraphRun) -> None:
        """Take a refused message out of the thread: a later turn must not read it (the run
        record keeps it, and the thread lists it as a blocked turn)."""
        if self.checkpointer is None:
            return
        config: RunnableConfig = {"configurable": {"thread_id": str(run.thread_id)}}
        state = await self.graph.aget_state(config)
        messages = state.values.get("messages", []) if state and state.values else []
        refused = message_id(run.run_id)
        if any(message.id == refused for message in messages):
            update = {"messages": [RemoveMessage(id=refused)]}
            await self.graph.aupdate_state(config, update, as_node="input_guard")

    async def state(
        self, thread_id: uuid.UUID, checkpoint_id: str | None = None
    ) -> StateSnapshot | None:
        """The thread's state (at `checkpoint_id` when given); None when there is none."""
        if self.checkpointer is None:
            return None
        configurable = {"thread_id": str(thread_id), "checkpoint_ns": ""}
        if checkpoint_id is not None:
            configurable["checkpoint_id"] = checkpoint_id
        snapshot = await self.graph.aget_state({"configurable": configurable})
        return snapshot if snapshot.created_at is not None else None

    async def history(
        self,
        thread_id: uuid.UUID,
        *,
        limit: int,
        before: str | None = None,
        metadata: dict[str, Any] | None = None,
        checkpoint_id: str | None = None,
    ) -> list[StateSnapshot]:
        """The thread's states, newest first."""
        if self.checkpointer is None:
            return []
        configurable = {"thread_id": str(thread_id), "checkpoint_ns": ""}
        if checkpoint_id is not None:
            configurable["checkpoint_id"] = checkpoint_id
        before_config: RunnableConfig | None = (
            {"configurable": {**configurable, "checkpoint_id": before}} if before else None
        )
        return [
            snapshot
            async for snapshot in self.graph.aget_state_history(
                {"configurable": configurable}, filter=metadata, before=before_config, limit=limit
            )
        ]

    async def thread_messages(self, thread_id: uuid.UUID) -> list[Any]:
        """The conversation's messages from the latest checkpoint."""
        state = await self.graph.aget_state({"configurable": {"thread_id": str(thread_id)}})
        return list(state.values.get("messages", [])) if state and state.values else []

    async def delete_checkpoints(self, thread_id: uuid.UUID) -> None:
        """Remove every checkpoint of a thread."""
        if self.checkpointer is not None:
            await self.checkpointer.adelete_thread(str(thread_id))


def jsonable(value: Any) -> dict[str, Any]:
    """Graph state (or an update) as JSON: messages as LangChain message dicts, interrupts as
    `{id, value}` — the shapes LangGraph SDK clients parse."""
    converted = to_jsonable_python(value, fallback=str)
    return converted if isinstance(converted, dict) else {}


def translate(mode: str, data: Any, outcome: GraphOutcome, run_id: uuid.UUID) -> list[StreamEvent]:
    """Translate one LangGraph stream item into our events, updating the outcome."""
    if mode == "custom":
        if isinstance(data, dict) and "token" in data:
            return [TokenEvent(text=data["token"], message_id=data.get("message_id"))]
        return []
    events: list[StreamEvent] = []
    for node, update in (data or {}).items():
        if node == "__interrupt__":
            for paused in update:
                outcome.pending = ApprovalRequest.model_validate(paused.value)
                events.append(ApprovalRequiredEvent(**outcome.pending.model_dump(), run_id=run_id))
            continue
        if not isinstance(update, dict):
            continue
        if node == "planner":
            outcome.plan = update.get("plan")
            steps = [PlanStep(**s) for s in update.get("plan_steps", [])]
            events.append(PlanEvent(text=outcome.plan or "", steps=steps))
        elif node == "executor":
            message = update["messages"][-1]
            if isinstance(message, AIMessage) and message.tool_calls:
                for call in message.tool_calls:
                    record = ToolCallRecord(
                        id=call["id"] or "", name=call["name"], args=call["args"]
                    )
                    outcome.tool_calls[record.id] = record
                    events.append(ToolCallEvent(id=record.id, name=record.name, args=record.args))
            elif isinstance(message, AIMessage):
                outcome.response = message.text
                outcome.malformed_calls = [c.get("name") or "?" for c in message.invalid_tool_calls]
        elif node == "tools":
            outcome.stop_reason = update.get("stop_reason")
            for message in update.get("messages", []):
                if not isinstance(message, ToolMessage):
                    continue
                record = outcome.tool_calls.setdefault(
                    message.tool_call_id,
                    ToolCallRecord(id=message.tool_call_id, name=message.name or "tool"),
                )
                record.output = message.text
                record.ok = message.status != "error"
                events.append(
                    ToolResultEvent(
                        id=record.id, name=record.name, output=record.output, ok=record.ok
                    )
                )
    return events
