"""AgentService: run the graph for a user, log the run, stream typed events, cancel runs."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import structlog
from langchain_core.callbacks import UsageMetadataCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import GraphRecursionError
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StreamMode

from app.agents import approvals
from app.agents.graph import TOOL_BUDGET_EXCEEDED, AgentContext, build_graph
from app.agents.llm import ChatModels, create_chat_models
from app.agents.schemas import (
    AgentRunRequest,
    AgentRunResult,
    ApprovalRequest,
    ApprovalRequiredEvent,
    ErrorEvent,
    PlanEvent,
    PlanStep,
    RunCompletedEvent,
    RunStartedEvent,
    TokenEvent,
    ToolCallEvent,
    ToolCallRecord,
    ToolResultEvent,
)
from app.agents.tools import ToolContext, approval_required_tools, build_tools
from app.core import metrics, telemetry
from app.core.config import Settings
from app.core.db import SessionMaker
from app.core.logging import bind_log_context
from app.crud import crud_agent, crud_approval
from app.models import AgentRun, RunStatus, User
from app.services.budget import check_agent_budgets

logger = structlog.get_logger(__name__)
StreamEvent = (
    RunStartedEvent
    | PlanEvent
    | TokenEvent
    | ToolCallEvent
    | ToolResultEvent
    | ApprovalRequiredEvent
    | RunCompletedEvent
    | ErrorEvent
)
Emit = Callable[[StreamEvent], Awaitable[None]]


class AgentRunError(Exception):
    """A run that ended in error; carries the HTTP status and the recorded result."""

    def __init__(self, status_code: int, code: str, message: str, result: AgentRunResult) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.result = result


class ThreadNotFoundError(LookupError):
    """The thread does not exist for this user."""


@dataclass
class PreparedRun:
    """A run recorded as `running`, ready to execute."""

    run_id: uuid.UUID
    thread_id: uuid.UUID
    user: User
    message: str
    trace: telemetry.RunTrace
    started: float = field(default_factory=time.perf_counter)
    resume: dict[str, Any] | None = None  # a decision resuming a run paused for approval
    prior: AgentRun | None = None  # what the run had done before it paused


@dataclass
class _Outcome:
    """What a run produced, accumulated from graph updates."""

    response: str | None = None
    plan: str | None = None
    stop_reason: str | None = None
    tool_calls: dict[str, ToolCallRecord] = field(default_factory=dict)
    pending: ApprovalRequest | None = None


class _UsageHandler(UsageMetadataCallbackHandler):
    """Token usage per model, recorded inline: LangChain hands every event of a sync handler
    that isn't `run_inline` to a thread pool, and those hops cost more CPU than the run."""

    run_inline = True


def _is_timeout(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in (exc, exc.__cause__) if e is not None}
    return isinstance(exc, TimeoutError | httpx.TimeoutException) or bool(
        names & {"APITimeoutError", "ReadTimeout", "ConnectTimeout", "TimeoutException"}
    )


class AgentService:
    """Runs the planner/executor graph; one instance per app, created in the lifespan."""

    def __init__(self, config: Settings, checkpointer: BaseCheckpointSaver[Any] | None) -> None:
        self.settings = config
        self.models: ChatModels = create_chat_models(config)
        self.checkpointer = checkpointer
        self.graph: CompiledStateGraph[Any, Any, Any, Any] = build_graph(checkpointer)
        self._tasks: dict[uuid.UUID, asyncio.Task[Any]] = {}

    # --- preparing and running ---

    async def prepare_run(self, user: User, request: AgentRunRequest) -> PreparedRun:
        """Check the thread belongs to the user, record the run, start its trace."""
        thread_id = request.thread_id or uuid.uuid4()
        async with SessionMaker() as session:
            if request.thread_id is not None:
                owner = await crud_agent.thread_owner(session=session, thread_id=thread_id)
                if owner is not None and owner != user.id:
                    raise ThreadNotFoundError(str(thread_id))
            # 429 before anything starts; on PostgreSQL it locks the user's budget until
            # create_run commits, so concurrent starts can't both slip under the cap.
            await check_agent_budgets(session, user.id, config=self.settings)
            run_id = uuid.uuid4()
            trace = telemetry.start_run_trace(
                run_id=run_id,
                user_id=user.id,
                thread_id=thread_id,
                tags=["agent", self.settings.APP_ENV],
                metadata=request.metadata or {},
            )
            run = await crud_agent.create_run(
                session=session,
                run_id=run_id,
                user_id=user.id,
                thread_id=thread_id,
                message=request.message,
                model=self.models.name,
                metadata=request.metadata or {},
                trace_id=trace.trace_id,
            )
        bind_log_context(run_id=run.id, thread_id=thread_id, trace_id=trace.trace_id)
        return PreparedRun(run.id, thread_id, user, request.message, trace)

    async def run_agent(
        self,
        user: User,
        message: str,
        thread_id: uuid.UUID | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run to completion; return the seed's dict (response, thread_id, trace_id, run_id, ...)."""
        request = AgentRunRequest(message=message, thread_id=thread_id, metadata=metadata)
        result = await self.execute(await self.prepare_run(user, request))
        return result.model_dump(mode="json")

    async def execute(self, prepared: PreparedRun) -> AgentRunResult:
        """Run a prepared run to completion (cancellable through `cancel`)."""
        task = asyncio.create_task(self._execute(prepared, None))
        self._tasks[prepared.run_id] = task
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                task.cancel()  # our caller went away: stop the run too
                raise
            return self._result(prepared, RunStatus.cancelled, _Outcome(), error="Run cancelled")
        finally:
            self._tasks.pop(prepared.run_id, None)

    def start_in_background(self, prepared: PreparedRun) -> None:
        """Execute without a caller waiting (e.g. resuming a run whose approval timed out)."""

        async def run() -> AgentRunResult | None:
            try:
                return await self._execute(prepared, None)
            except AgentRunError:
                return None  # recorded on the run already
            finally:
                self._tasks.pop(prepared.run_id, None)

        self._tasks[prepared.run_id] = asyncio.create_task(run())

    async def stream(self, prepared: PreparedRun) -> AsyncIterator[StreamEvent]:
        """Yield typed events while the run executes; closing the stream cancels the run."""
        queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue()
        task = asyncio.create_task(self._execute(prepared, queue.put))
        task.add_done_callback(lambda _t: queue.put_nowait(None))
        self._tasks[prepared.run_id] = task
        try:
            yield RunStartedEvent(
                run_id=prepared.run_id,
                thread_id=prepared.thread_id,
                trace_id=prepared.trace.trace_id,
                trace_url=prepared.trace.trace_url,
            )
            while (event := await queue.get()) is not None:
                yield event
            if task.cancelled():
                yield ErrorEvent(code="cancelled", message="Run cancelled", run_id=prepared.run_id)
            elif isinstance(error := task.exception(), AgentRunError):
                yield ErrorEvent(code=error.code, message=error.message, run_id=prepared.run_id)
            elif error is not None:
                yield ErrorEvent(code="internal", message="Internal error", run_id=prepared.run_id)
            else:
                yield RunCompletedEvent(**task.result().model_dump())
        finally:
            if not task.done():
                task.cancel()
                await asyncio.wait([task])
            self._tasks.pop(prepared.run_id, None)

    async def cancel(self, run_id: uuid.UUID) -> bool:
        """Cancel a run in flight in this process, or mark it cancelled if it runs elsewhere."""
        task = self._tasks.get(run_id)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
            return True
        async with SessionMaker() as session:
            return await crud_agent.finish_run(
                session=session, run_id=run_id, status=RunStatus.cancelled, error="Run cancelled"
            )

    async def cancel_all(self) -> None:
        """Cancel every run in flight (shutdown)."""
        for run_id in list(self._tasks):
            await self.cancel(run_id)

    async def _execute(self, prepared: PreparedRun, emit: Emit | None) -> AgentRunResult:
        usage = _UsageHandler()
        outcome = _Outcome()
        config: RunnableConfig = {
            "configurable": {"thread_id": str(prepared.thread_id)},
            "recursion_limit": self.settings.AGENT_RECURSION_LIMIT,
            "callbacks": [usage, *metrics.metrics_callbacks(), *prepared.trace.callbacks],
            "metadata": prepared.trace.metadata,
            "run_name": "agent_run",
        }
        tools = build_tools(
            ToolContext(
                user_id=prepared.user.id,
                is_superuser=prepared.user.is_superuser,
                session_factory=SessionMaker,
                settings=self.settings,
            )
        )
        context = AgentContext(
            models=self.models,
            tools=tools,
            max_tool_calls=self.settings.AGENT_MAX_TOOL_CALLS,
            approval_tools=approval_required_tools(tools, self.settings),
        )
        inputs: Any = (
            Command(resume=prepared.resume)
            if prepared.resume is not None
            else {"messages": [HumanMessage(prepared.message)], "user_id": str(prepared.user.id)}
        )
        modes: list[StreamMode] = ["updates", "messages"] if emit else ["updates"]
        metrics.run_started()
        try:
            async with asyncio.timeout(self.settings.AGENT_RUN_TIMEOUT_SECONDS):
                # durability="exit": one checkpoint write per run instead of one per step. A run
                # that dies midway is recorded `interrupted` and its turn isn't replayed anyway.
                async for mode, data in self.graph.astream(
                    inputs, config, context=context, stream_mode=modes, durability="exit"
                ):
                    for event in self._events(mode, data, outcome, prepared.run_id):
                        if emit:
                            await emit(event)
        except asyncio.CancelledError:
            await asyncio.shield(
                self._finish(prepared, RunStatus.cancelled, outcome, usage, "Run cancelled")
            )
            raise
        except GraphRecursionError:
            message = f"Recursion limit of {self.settings.AGENT_RECURSION_LIMIT} steps reached (AGENT_RECURSION_LIMIT)"
            result = await self._finish(prepared, RunStatus.error, outcome, usage, message)
            raise AgentRunError(422, "budget_exceeded", message, result) from None
        except Exception as exc:
            timeout = _is_timeout(exc)
            message = (
                "The model timed out" if timeout else f"The model call failed: {type(exc).__name__}"
            )
            logger.warning(
                "agent.run_failed",
                run_id=str(prepared.run_id),
                error_type=type(exc).__name__,
                error=str(exc)[:500],
            )
            result = await self._finish(
                prepared,
                RunStatus.error,
                outcome,
                usage,
                message,
                metric_status="timeout" if timeout else None,
            )
            code = "model_timeout" if timeout else "model_error"
            raise AgentRunError(504 if timeout else 502, code, message, result) from None
        if outcome.stop_reason == TOOL_BUDGET_EXCEEDED:
            message = f"Tool-call budget of {self.settings.AGENT_MAX_TOOL_CALLS} calls exceeded (AGENT_MAX_TOOL_CALLS)"
            result = await self._finish(prepared, RunStatus.error, outcome, usage, message)
            raise AgentRunError(422, "budget_exceeded", message, result)
        if outcome.pending is not None:
            return await self._pause(prepared, outcome, usage)
        return await self._finish(prepared, RunStatus.success, outcome, usage, None)

    def _events(
        self, mode: str, data: Any, outcome: _Outcome, run_id: uuid.UUID
    ) -> list[StreamEvent]:
        """Translate one LangGraph stream item into our events, updating the outcome."""
        if mode == "messages":
            chunk, meta = data
            if (
                meta.get("langgraph_node") == "executor"
                and isinstance(chunk, AIMessageChunk)
                and chunk.text
            ):
                return [TokenEvent(text=chunk.text)]
            return []
        events: list[StreamEvent] = []
        for node, update in (data or {}).items():
            if node == "__interrupt__":
                for paused in update:
                    outcome.pending = ApprovalRequest.model_validate(paused.value)
                    events.append(
                        ApprovalRequiredEvent(**outcome.pending.model_dump(), run_id=run_id)
                    )
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
                        events.append(
                            ToolCallEvent(id=record.id, name=record.name, args=record.args)
                        )
                elif isinstance(message, AIMessage):
                    outcome.response = message.text
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

    def _result(
        self,
        prepared: PreparedRun,
        status: str,
        outcome: _Outcome,
        *,
        error: str | None = None,
        usage: dict[str, int] | None = None,
    ) -> AgentRunResult:
        usage = usage or {}
        prior = prepared.prior
        earlier = [ToolCallRecord.model_validate(c) for c in (prior.tool_calls if prior else [])]
        calls = {c.id: c for c in earlier} | outcome.tool_calls
        return AgentRunResult(
            run_id=prepared.run_id,
            thread_id=prepared.thread_id,
            status=status,
            response=outcome.response,
            plan=outcome.plan or (prior.plan if prior else None),
            trace_id=prepared.trace.trace_id,
            trace_url=prepared.trace.trace_url,
            latency_ms=int((time.perf_counter() - prepared.started) * 1000)
            + ((prior.latency_ms or 0) if prior else 0),
            model=self.models.name,
            tool_calls=list(calls.values()),
            error=error,
            prompt_tokens=usage.get("input_tokens", 0) + (prior.prompt_tokens if prior else 0),
            completion_tokens=usage.get("output_tokens", 0)
            + (prior.completion_tokens if prior else 0),
            total_tokens=usage.get("total_tokens", 0) + (prior.total_tokens if prior else 0),
            pending_approval=outcome.pending,
        )

    @staticmethod
    def _totals(usage: UsageMetadataCallbackHandler) -> dict[str, int]:
        totals = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        for model_usage in usage.usage_metadata.values():
            totals["input_tokens"] += model_usage.get("input_tokens", 0)
            totals["output_tokens"] += model_usage.get("output_tokens", 0)
            totals["total_tokens"] += model_usage.get("total_tokens", 0)
        return totals

    async def _pause(
        self, prepared: PreparedRun, outcome: _Outcome, usage: UsageMetadataCallbackHandler
    ) -> AgentRunResult:
        """Record the pending approval and leave the run `awaiting_approval`."""
        assert outcome.pending is not None
        result = self._result(
            prepared, RunStatus.awaiting_approval, outcome, usage=self._totals(usage)
        )
        pending = outcome.pending
        async with SessionMaker() as session:
            await approvals.record_pending(
                session,
                pending,
                run_id=prepared.run_id,
                user_id=prepared.user.id,
                thread_id=prepared.thread_id,
                config=self.settings,
            )
            await crud_approval.pause_run(
                session=session, run_id=prepared.run_id, **self._log_fields(result)
            )
        metrics.run_finished(
            RunStatus.awaiting_approval,
            (result.latency_ms or 0) / 1000,
            result.prompt_tokens,
            result.completion_tokens,
        )
        return result

    @staticmethod
    def _log_fields(result: AgentRunResult) -> dict[str, Any]:
        """What the run log stores of a result."""
        return {
            "response": result.response,
            "plan": result.plan,
            "latency_ms": result.latency_ms,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "total_tokens": result.total_tokens,
            "tool_call_count": len(result.tool_calls),
            "tool_calls": [call.model_dump() for call in result.tool_calls],
        }

    async def _finish(
        self,
        prepared: PreparedRun,
        status: str,
        outcome: _Outcome,
        usage: UsageMetadataCallbackHandler,
        error: str | None,
        metric_status: str | None = None,
    ) -> AgentRunResult:
        result = self._result(prepared, status, outcome, error=error, usage=self._totals(usage))
        async with SessionMaker() as session:
            await crud_agent.finish_run(
                session=session,
                run_id=prepared.run_id,
                status=status,
                error=error,
                **self._log_fields(result),
            )
        metrics.run_finished(
            metric_status or status,
            (result.latency_ms or 0) / 1000,
            result.prompt_tokens,
            result.completion_tokens,
        )
        return result

    # --- threads ---

    async def thread_messages(self, thread_id: uuid.UUID) -> list[Any]:
        """The conversation's messages from the latest checkpoint."""
        state = await self.graph.aget_state({"configurable": {"thread_id": str(thread_id)}})
        return list(state.values.get("messages", [])) if state and state.values else []

    async def delete_thread(self, thread_id: uuid.UUID) -> None:
        """Remove the thread's checkpoints and flag its runs."""
        if self.checkpointer is not None:
            await self.checkpointer.adelete_thread(str(thread_id))
        async with SessionMaker() as session:
            await crud_agent.mark_thread_deleted(session=session, thread_id=thread_id)

    async def sweep_stale_runs(self) -> int:
        """Mark runs cut off by a crash as interrupted."""
        older_than = timedelta(seconds=self.settings.AGENT_RUN_TIMEOUT_SECONDS + 60)
        async with SessionMaker() as session:
            return await crud_agent.mark_stale_runs_interrupted(
                session=session, older_than=older_than
            )
