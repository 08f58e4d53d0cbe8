"""Execute one queued run: claim it, hold its lease, run the graph, log events, record the end."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from langgraph.errors import GraphRecursionError

from app.agents.context import ContextOverflowError
from app.agents.graph import TOOL_BUDGET_EXCEEDED
from app.agents.guardrails import GuardrailBlockedError
from app.agents.model_chain import ModelsUnavailableError, is_timeout
from app.agents.schemas import AgentRunResult, ErrorEvent, RunCompletedEvent, StreamEvent
from app.agents.service import AgentService, GraphOutcome, GraphRun
from app.core import metrics, telemetry
from app.core.config import Settings
from app.core.logging import bind_log_context
from app.models import ACTIVE_RUN_STATUSES, RunStatus, ToolCallStatus
from app.services.runs import recorder, titles
from app.services.runs.cancel import CancelBus
from app.services.runs.events import EventLog
from app.services.runs.leases import Leases
from app.services.runs.queue import QueueError
from app.services.runs.recorder import Execution

logger = structlog.get_logger(__name__)
ENQUEUED_POLL_S = 0.25
ERROR_CODES = {
    RunStatus.cancelled: "cancelled",
    RunStatus.interrupted: "interrupted",
    RunStatus.blocked: "guardrail_blocked",
}


def terminal_event(result: AgentRunResult, code: str | None = None) -> StreamEvent:
    """The event that ends an execution, for a result as recorded."""
    if result.status in (RunStatus.success, RunStatus.awaiting_approval):
        return RunCompletedEvent(**result.model_dump())
    code = code or ERROR_CODES.get(RunStatus(result.status), "model_error")
    return ErrorEvent(code=code, message=result.error or result.status, run_id=result.run_id)


def run_outcome(result: AgentRunResult, code: str | None) -> dict[str, Any]:
    """What the run's trace records of how it ended."""
    return {
        "status": result.status,
        "code": code,
        "mode": result.mode,
        "degraded_reason": result.degraded_reason,
        "answered_by": result.model,
    }


def graph_options(options: dict[str, Any]) -> dict[str, Any]:
    """An Agent Protocol run's queued options as GraphRun fields."""
    return {
        "checkpoint_id": options.get("checkpoint_id"),
        "has_input": options.get("has_input", True),
        "command": options.get("command"),
        "state_modes": frozenset(options.get("state_modes") or ()),
        "durability": options.get("durability", "exit"),
    }


def unanswered_failure(result: AgentRunResult, outcome: GraphOutcome) -> str | None:
    """Why a run that gave no answer failed: a refused or failed tool call of this execution."""
    if (result.response or "").strip():
        return None
    for call in outcome.tool_calls.values():
        if call.status == ToolCallStatus.rejected:
            return f"The {call.name} call was rejected, so the run has no answer."
        if call.status == ToolCallStatus.failed:
            return f"The {call.name} call failed and the model gave no answer."
    return None


class RunExecutor:
    """Runs queued jobs in this process."""

    def __init__(
        self,
        config: Settings,
        agent: AgentService,
        events: EventLog,
        cancels: CancelBus,
        leases: Leases,
        worker_id: str,
    ) -> None:
        self.settings = config
        # How to queue a thread's title; set by the runtime once its queue exists.
        self.request_title: Callable[[uuid.UUID], Awaitable[None]] | None = None
        self.agent = agent
        self.events = events
        self.cancels = cancels
        self.leases = leases
        self.worker_id = worker_id

    async def execute(
        self,
        run_id: str,
        stream_tokens: bool = True,
        resume: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        """The queue's task: execute the run unless it was cancelled or taken meanwhile."""
        rid = uuid.UUID(run_id)
        claimed = await recorder.claim(rid, self.worker_id, self.settings.AGENT_RUN_LEASE_SECONDS)
        if claimed is None:
            return
        run, owner_is_superuser = claimed
        task = asyncio.current_task()
        assert task is not None
        self.cancels.executing(rid, task)
        self.leases.hold(rid)
        bind_log_context(run_id=rid, thread_id=run.thread_id, trace_id=run.trace_id)
        try:
            await self._execute(
                Execution(run, resume, options or {}), owner_is_superuser, stream_tokens
            )
        finally:
            self.cancels.done(rid)
            self.leases.release(rid)

    async def _execute(
        self, execution: Execution, owner_is_superuser: bool | None, stream_tokens: bool
    ) -> None:
        run = execution.run
        if owner_is_superuser is None:  # the account was deleted while the run was queued
            await self._end(execution, RunStatus.cancelled, GraphOutcome(), "The user was deleted")
            return
        trace = telemetry.start_run_trace(
            run_id=run.id,
            user_id=run.user_id,
            thread_id=run.thread_id,
            tags=["agent", self.settings.APP_ENV, *(["resumed"] if execution.resume else [])],
            metadata=run.run_metadata,
        )
        graph_run = GraphRun(
            run_id=run.id,
            thread_id=run.thread_id,
            user_id=run.user_id,
            is_superuser=owner_is_superuser,
            message=run.input,
            resume=execution.resume,
            callbacks=[*metrics.metrics_callbacks(), *trace.callbacks],
            metadata=trace.metadata,
            stream_tokens=stream_tokens,
            **graph_options(execution.options),
        )
        outcome = GraphOutcome()
        metrics.run_started()
        graph_run.deadline = time.monotonic() + self.settings.AGENT_RUN_TIMEOUT_SECONDS
        try:
            async with asyncio.timeout(self.settings.AGENT_RUN_TIMEOUT_SECONDS):
                await self._wait_for(execution.options.get("after_runs") or [])
                async for event in self.agent.run(graph_run, outcome):
                    await self.events.append(run.id, event)
        except asyncio.CancelledError:
            # Cancelled through the cancel bus, or this process is shutting down. The task ends
            # here either way, after recording it (shielded from a second cancel).
            if self.cancels.stopping:
                status, error = RunStatus.interrupted, "The worker shut down during this run."
            else:
                status, error = RunStatus.cancelled, "Run cancelled"
            await asyncio.shield(self._end(execution, status, outcome, error))
            return
        except GuardrailBlockedError as blocked:
            logger.info("agent.guardrail_blocked", rule=blocked.rule, stage=blocked.stage)
            message = f"Blocked by the {blocked.rule} guardrail: {blocked.message}"
            await self._end(execution, RunStatus.blocked, outcome, message, "guardrail_blocked")
            return
        except ContextOverflowError as exc:
            # The newest message alone exceeds the model's window: no retry can succeed.
            await self._end(execution, RunStatus.error, outcome, str(exc), "budget_exceeded")
            return
        except ModelsUnavailableError as exc:
            logger.warning("agent.models_unavailable", reason=exc.reason)
            await self._end(execution, RunStatus.error, outcome, str(exc), "model_unavailable")
            return
        except GraphRecursionError:
            limit = self.settings.AGENT_RECURSION_LIMIT
            message = f"Recursion limit of {limit} steps reached (AGENT_RECURSION_LIMIT)"
            await self._end(execution, RunStatus.error, outcome, message, "budget_exceeded")
            return
        except Exception as exc:
            timeout = is_timeout(exc)
            logger.warning("agent.run_failed", error_type=type(exc).__name__, error=str(exc)[:500])
            message = (
                "The model timed out" if timeout else f"The model call failed: {type(exc).__name__}"
            )
            code = "model_timeout" if timeout else "model_error"
            await self._end(
                execution,
                RunStatus.error,
                outcome,
                message,
                code,
                metric_status="timeout" if timeout else None,
            )
            return
        if outcome.stop_reason == TOOL_BUDGET_EXCEEDED:
            limit = self.settings.AGENT_MAX_TOOL_CALLS
            message = f"Tool-call budget of {limit} calls exceeded (AGENT_MAX_TOOL_CALLS)"
            await self._end(execution, RunStatus.error, outcome, message, "budget_exceeded")
        elif outcome.pending is not None:
            paused = await recorder.pause(execution, outcome, outcome.pending, self.settings)
            if paused is not None:
                telemetry.record_run_outcome(paused.trace_id, run_outcome(paused, None))
            await self._append_terminal(execution, paused)
        elif outcome.malformed_calls and not (outcome.response or "").strip():
            names = ", ".join(outcome.malformed_calls)
            message = f"The model returned a malformed tool call ({names}) and no answer"
            await self._end(execution, RunStatus.error, outcome, message, "model_error")
        elif failure := unanswered_failure(recorder.result_for(execution, "", outcome), outcome):
            await self._end(execution, RunStatus.error, outcome, failure, "tool_failed")
        else:
            await self._end(execution, RunStatus.success, outcome)
            await self._title(execution, outcome)

    async def _title(self, execution: Execution, outcome: GraphOutcome) -> None:
        """Queue the title of the thread this run started (its own task, after the run)."""
        if self.request_title is None or not execution.options.get(titles.NAME_THREAD):
            return
        if not titles.wanted(self.settings, outcome.response):
            return
        try:
            await self.request_title(execution.run.id)
        except QueueError as exc:  # the trimmed first message stays the title
            logger.info("threads.title_not_queued", error=repr(exc))

    async def _wait_for(self, run_ids: list[str]) -> None:
        """An enqueued Agent Protocol run starts once the thread's earlier runs have ended
        (it holds its worker slot meanwhile; the run's timeout bounds the wait)."""
        for run_id in run_ids:
            while True:
                earlier = await recorder.read_run(uuid.UUID(run_id))
                if earlier is None or earlier.status not in ACTIVE_RUN_STATUSES:
                    break
                await asyncio.sleep(ENQUEUED_POLL_S)

    async def _end(
        self,
        execution: Execution,
        status: str,
        outcome: GraphOutcome,
        error: str | None = None,
        code: str | None = None,
        metric_status: str | None = None,
    ) -> None:
        result = await recorder.finish(execution, status, outcome, error, metric_status)
        if result is not None:
            telemetry.record_run_outcome(result.trace_id, run_outcome(result, code))
        await self._append_terminal(execution, result, code)

    async def _append_terminal(
        self, execution: Execution, result: AgentRunResult | None, code: str | None = None
    ) -> None:
        """Log the event that ends this execution; when the run had already been ended
        elsewhere (cancelled, swept), the event says what the run log says."""
        if result is None:
            row = await recorder.read_run(execution.run.id)
            if row is None:
                return
            result, code = recorder.result_from_row(row), None
        try:
            await self.events.append(execution.run.id, terminal_event(result, code))
        except Exception:
            logger.warning("runs.terminal_event_failed", exc_info=True)
