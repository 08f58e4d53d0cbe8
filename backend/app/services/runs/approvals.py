"""Human approval of side-effecting tool calls: decide, resume through the queue, expire.

The paused graph state lives in the checkpoint; the `agent_approval` table is the audit trail and
the index the API reads. Both survive restarts, so a run can be approved after a redeploy.
"""

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import structlog
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from app.agents.tools import tool_args_schema
from app.core.db import SessionMaker
from app.crud import approval as crud_approval
from app.models import AgentApproval, ApprovalDecision, ApprovalStatus, User, utcnow
from app.services.runs.errors import (
    ApprovalArgsError,
    ApprovalConflictError,
    ApprovalNotFoundError,
)
from app.services.runs.prepare import QueuedRun, queue_run

if TYPE_CHECKING:
    from app.services.runs.runtime import RunRuntime

logger = structlog.get_logger(__name__)
STATUS_FOR = {
    "approve": ApprovalStatus.approved,
    "reject": ApprovalStatus.rejected,
    "edit": ApprovalStatus.edited,
}


def _validated_args(
    runtime: "RunRuntime", user: User, tool: str, args: dict[str, Any] | None
) -> dict[str, Any]:
    """Edited arguments checked against the tool's schema (Pydantic, or an MCP tool's JSON
    Schema); ApprovalArgsError (422) otherwise."""
    tools = runtime.agent.tools_for(user.id, user.is_superuser)
    schema = tool_args_schema(tools, tool)
    if isinstance(schema, dict):
        problems = sorted(Draft202012Validator(schema).iter_errors(args or {}), key=str)
        if problems:
            raise ApprovalArgsError(
                [
                    {"type": "json_schema", "loc": list(e.absolute_path), "msg": e.message}
                    for e in problems
                ]
            )
        return args or {}
    if schema is None:
        return args or {}
    try:
        return schema.model_validate(args or {}).model_dump(mode="json")
    except ValidationError as exc:
        errors = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()]
        raise ApprovalArgsError(errors) from None


async def decide(
    runtime: "RunRuntime",
    user: User,
    thread_id: uuid.UUID,
    approval_id: uuid.UUID,
    decision: ApprovalDecision,
    *,
    decided_by: uuid.UUID | None = None,
    stream_tokens: bool = True,
    options: dict[str, Any] | None = None,
) -> QueuedRun:
    """Validate and record the decision, and queue the run to resume with it.

    `decided_by` is None when the approval timed out (the sweep rejects it on the owner's
    behalf).
    """
    async with SessionMaker() as session:
        approval = await session.get(AgentApproval, approval_id)
        if approval is None or approval.thread_id != thread_id or approval.user_id != user.id:
            raise ApprovalNotFoundError()
        if approval.status != ApprovalStatus.pending:
            raise ApprovalConflictError(f"This approval is already {approval.status}")
        if approval.expires_at < utcnow() and decided_by is not None:
            raise ApprovalConflictError("This approval has expired")
        edited = (
            _validated_args(runtime, user, approval.tool, decision.args)
            if decision.decision == "edit"
            else None
        )
        status = STATUS_FOR[decision.decision] if decided_by is not None else ApprovalStatus.expired
        claimed = await crud_approval.claim_decision(
            session=session,
            approval_id=approval_id,
            status=status,
            decided_by=decided_by,
            edited_args=edited,
            comment=decision.comment,
        )
        if not claimed:
            raise ApprovalConflictError("This approval was decided already")
        run = await crud_approval.resume_run(session=session, run_id=approval.run_id)
        if run is None:
            raise ApprovalConflictError("The run is no longer waiting for this approval")
    resume = {"decision": decision.decision, "args": edited, "comment": decision.comment}
    cursor = await queue_run(
        runtime, run.id, thread_id, stream_tokens=stream_tokens, resume=resume, options=options
    )
    return QueuedRun(run.id, thread_id, cursor)


async def expire_overdue(runtime: "RunRuntime") -> int:
    """Reject approvals past APPROVAL_TIMEOUT_MINUTES and let their runs finish saying so."""
    async with SessionMaker() as session:
        overdue = await crud_approval.overdue_approvals(session=session, now=utcnow())
        owners = {a.id: await session.get(User, a.user_id) for a in overdue}
    minutes = runtime.settings.APPROVAL_TIMEOUT_MINUTES
    expired = 0
    for approval in overdue:
        owner = owners[approval.id]
        if owner is None:
            continue
        decision = ApprovalDecision(
            decision="reject", comment=f"no decision within {minutes:g} minutes, so it timed out"
        )
        try:
            await decide(runtime, owner, approval.thread_id, approval.id, decision)
        except (ApprovalConflictError, ApprovalNotFoundError):
            continue  # another process expired or someone decided it meanwhile
        expired += 1
    if expired:
        logger.info("agent.approvals_expired", count=expired)
    return expired


async def expire_forever(runtime: "RunRuntime") -> None:
    """Expire overdue approvals every APPROVAL_SWEEP_INTERVAL_SECONDS."""
    while True:
        try:
            await expire_overdue(runtime)
        except Exception:
            logger.exception("agent.approval_sweep_failed")
        await asyncio.sleep(runtime.settings.APPROVAL_SWEEP_INTERVAL_SECONDS)
