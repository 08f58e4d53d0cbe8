"""Run-log writes for an executing run, and the results built from them."""

import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from app.agents.schemas import AgentRunResult, ApprovalRequest
from app.agents.service import GraphOutcome
from app.core import metrics
from app.core.config import Settings
from app.core.db import SessionMaker
from app.core.telemetry import trace_url_for
from app.crud import agent_run as crud_run
from app.crud import approval as crud_approval
from app.models import (
    AgentApproval,
    AgentRun,
    RunMode,
    RunStatus,
    ThreadStatus,
    ToolCallRecord,
    utcnow,
)

THREAD_STATUS_AFTER = {
    RunStatus.success: ThreadStatus.idle,
    RunStatus.cancelled: ThreadStatus.idle,
    RunStatus.blocked: ThreadStatus.idle,
    RunStatus.awaiting_approval: ThreadStatus.interrupted,
}


@dataclass
class Execution:
    """A claimed run being executed by this worker."""

    run: AgentRun  # as claimed: for a resumed run, what it had done before it paused
    resume: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)  # an Agent Protocol run's options
    started: float = field(default_factory=time.perf_counter)


def result_for(
    execution: Execution, status: str, outcome: GraphOutcome, error: str | None = None
) -> AgentRunResult:
    """The run's result: this execution's outcome on top of what the run had done before."""
    prior = execution.run
    usage = outcome.token_totals()
    earlier = [ToolCallRecord.model_validate(c) for c in prior.tool_calls or []]
    calls = {c.id: c for c in earlier} | outcome.tool_calls
    use = outcome.models
    # A resumed run stays degraded if its first part was; its reason is the latest one.
    mode: RunMode = "degraded" if use.mode == "degraded" or prior.mode == "degraded" else "normal"
    return AgentRunResult(
        run_id=prior.id,
        thread_id=prior.thread_id,
        status=status,
        response=outcome.response,
        plan=outcome.plan or prior.plan,
        trace_id=prior.trace_id,
        trace_url=trace_url_for(prior.trace_id),
        latency_ms=int((time.perf_counter() - execution.started) * 1000) + (prior.latency_ms or 0),
        model=use.answered_by or prior.model,
        mode=mode,
        degraded_reason=use.reason or (prior.degraded_reason if mode == "degraded" else None),
        tool_calls=list(calls.values()),
        error=error,
        prompt_tokens=usage["input_tokens"] + prior.prompt_tokens,
        completion_tokens=usage["output_tokens"] + prior.completion_tokens,
        total_tokens=usage["total_tokens"] + prior.total_tokens,
        pending_approval=outcome.pending,
    )


def result_from_row(run: AgentRun) -> AgentRunResult:
    """A result as the run log has it (a run that ended elsewhere, or was read back)."""
    return AgentRunResult(
        run_id=run.id,
        thread_id=run.thread_id,
        status=run.status,
        response=run.response,
        plan=run.plan,
        trace_id=run.trace_id,
        trace_url=trace_url_for(run.trace_id),
        latency_ms=run.latency_ms,
        model=run.model,
        mode=run.mode,
        degraded_reason=run.degraded_reason,
        tool_calls=[ToolCallRecord.model_validate(c) for c in run.tool_calls or []],
        error=run.error,
        prompt_tokens=run.prompt_tokens,
        completion_tokens=run.completion_tokens,
        total_tokens=run.total_tokens,
    )


def _log_fields(result: AgentRunResult) -> dict[str, Any]:
    """What the run log stores of a result."""
    return {
        "response": result.response,
        "plan": result.plan,
        "latency_ms": result.latency_ms,
        "model": result.model,
        "mode": result.mode,
        "degraded_reason": result.degraded_reason,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "total_tokens": result.total_tokens,
        "tool_call_count": len(result.tool_calls),
        "tool_calls": [call.model_dump() for call in result.tool_calls],
    }


def _observe(result: AgentRunResult, metric_status: str | None = None) -> None:
    metrics.run_finished(
        metric_status or result.status,
        (result.latency_ms or 0) / 1000,
        result.prompt_tokens,
        result.completion_tokens,
    )


async def claim(
    run_id: uuid.UUID, worker_id: str, lease_seconds: float
) -> tuple[AgentRun, bool | None] | None:
    """Take a pending run for this worker, with whether its owner is a superuser (None: the
    owner is gone); None when it was cancelled or taken meanwhile."""
    async with SessionMaker() as session:
        return await crud_run.claim_run(
            session=session,
            run_id=run_id,
            worker_id=worker_id,
            lease=timedelta(seconds=lease_seconds),
        )


async def finish(
    execution: Execution,
    status: str,
    outcome: GraphOutcome,
    error: str | None = None,
    metric_status: str | None = None,
) -> AgentRunResult | None:
    """Record the run's end; None when it had ended already (cancelled or swept elsewhere)."""
    result = result_for(execution, status, outcome, error)
    async with SessionMaker() as session:
        recorded = await crud_run.finish_run(
            session=session,
            run_id=execution.run.id,
            thread_status=THREAD_STATUS_AFTER.get(RunStatus(status), ThreadStatus.error),
            status=status,
            error=error,
            **_log_fields(result),
        )
    if not recorded:
        return None
    _observe(result, metric_status)
    if result.mode == "degraded" and result.degraded_reason:
        metrics.degraded_run(result.degraded_reason)
    return result


async def pause(
    execution: Execution, outcome: GraphOutcome, pending: ApprovalRequest, config: Settings
) -> AgentRunResult | None:
    """Record the pending approval and leave the run `awaiting_approval`."""
    result = result_for(execution, RunStatus.awaiting_approval, outcome)
    run = execution.run
    async with SessionMaker() as session:
        await crud_approval.create_approval(
            session=session,
            approval=AgentApproval(
                id=pending.approval_id,
                run_id=run.id,
                user_id=run.user_id,
                thread_id=run.thread_id,
                tool_call_id=pending.tool_call_id or "",
                tool=pending.tool,
                args=pending.args,
                reason=pending.reason,
                data_flow=pending.data_flow.model_dump(mode="json") if pending.data_flow else None,
                expires_at=utcnow() + timedelta(minutes=config.APPROVAL_TIMEOUT_MINUTES),
            ),
        )
        paused = await crud_approval.pause_run(
            session=session, run_id=run.id, thread_id=run.thread_id, **_log_fields(result)
        )
    if not paused:
        return None
    _observe(result)
    return result


async def read_run(run_id: uuid.UUID) -> AgentRun | None:
    """The run as recorded now."""
    async with SessionMaker() as session:
        return await session.get(AgentRun, run_id)
