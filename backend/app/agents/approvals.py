"""Human approval of side-effecting tool calls: record, decide, resume, expire.

The paused graph state lives in the checkpoint; the `agent_approval` table is the audit trail and
the index the API reads. Both survive restarts, so a run can be approved after a redeploy.
"""

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agents.schemas import ApprovalDecision, ApprovalRequest
from app.agents.tools import ToolContext, build_tools, tool_args_schema
from app.core import telemetry
from app.core.config import Settings
from app.core.db import SessionMaker
from app.crud import crud_approval
from app.models import AgentApproval, ApprovalStatus, User, utcnow

if TYPE_CHECKING:
    from app.agents.service import AgentService, PreparedRun

logger = structlog.get_logger(__name__)
STATUS_FOR = {
    "approve": ApprovalStatus.approved,
    "reject": ApprovalStatus.rejected,
    "edit": ApprovalStatus.edited,
}


class ApprovalNotFoundError(LookupError):
    """No such approval for this user and thread."""


class ApprovalConflictError(Exception):
    """The approval was already decided or has expired."""


class ApprovalArgsError(ValueError):
    """Edited arguments don't fit the tool's schema."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid arguments")
        self.errors = errors


async def record_pending(
    session: AsyncSession,
    pending: ApprovalRequest,
    *,
    run_id: uuid.UUID,
    user_id: uuid.UUID,
    thread_id: uuid.UUID,
    config: Settings,
) -> None:
    """Store a pending approval with its deadline."""
    await crud_approval.create_approval(
        session=session,
        approval=AgentApproval(
            id=pending.approval_id,
            run_id=run_id,
            user_id=user_id,
            thread_id=thread_id,
            tool_call_id=pending.tool_call_id or "",
            tool=pending.tool,
            args=pending.args,
            reason=pending.reason,
            expires_at=utcnow() + timedelta(minutes=config.APPROVAL_TIMEOUT_MINUTES),
        ),
    )


def _validated_args(
    user: User, tool: str, args: dict[str, Any] | None, config: Settings
) -> dict[str, Any]:
    tools = build_tools(ToolContext(user.id, user.is_superuser, SessionMaker, config))
    schema = tool_args_schema(tools, tool)
    if schema is None:
        return args or {}
    try:
        return schema.model_validate(args or {}).model_dump(mode="json")
    except ValidationError as exc:
        errors = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()]
        raise ApprovalArgsError(errors) from None


async def prepare_resume(
    service: "AgentService",
    user: User,
    thread_id: uuid.UUID,
    approval_id: uuid.UUID,
    decision: ApprovalDecision,
    *,
    decided_by: uuid.UUID | None = None,
) -> "PreparedRun":
    """Validate and record the decision, flip the run back to running, return it ready to resume."""
    from app.agents.service import PreparedRun

    async with SessionMaker() as session:
        approval = await session.get(AgentApproval, approval_id)
        if approval is None or approval.thread_id != thread_id or approval.user_id != user.id:
            raise ApprovalNotFoundError(str(approval_id))
        if approval.status != ApprovalStatus.pending:
            raise ApprovalConflictError(f"This approval is already {approval.status}")
        if approval.expires_at < utcnow() and decided_by is not None:
            raise ApprovalConflictError("This approval has expired")
        edited = (
            _validated_args(user, approval.tool, decision.args, service.settings)
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
    trace = telemetry.start_run_trace(
        run_id=run.id,
        user_id=user.id,
        thread_id=thread_id,
        tags=["agent", service.settings.APP_ENV, "resumed"],
        metadata=run.run_metadata,
    )
    resume = {"decision": decision.decision, "args": edited, "comment": decision.comment}
    return PreparedRun(run.id, thread_id, user, run.input, trace, resume=resume, prior=run)


async def expire_overdue(service: "AgentService") -> int:
    """Reject approvals past APPROVAL_TIMEOUT_MINUTES and let their runs finish saying so."""
    async with SessionMaker() as session:
        overdue = await crud_approval.overdue_approvals(session=session, now=utcnow())
        owners = {a.id: await session.get(User, a.user_id) for a in overdue}
    minutes = service.settings.APPROVAL_TIMEOUT_MINUTES
    expired = 0
    for approval in overdue:
        owner = owners[approval.id]
        if owner is None:
            continue
        decision = ApprovalDecision(
            decision="reject", comment=f"no decision within {minutes:g} minutes, so it timed out"
        )
        try:
            prepared = await prepare_resume(
                service, owner, approval.thread_id, approval.id, decision
            )
        except (ApprovalConflictError, ApprovalNotFoundError):
            continue  # another worker expired or someone decided it meanwhile
        service.start_in_background(prepared)
        expired += 1
    if expired:
        logger.info("agent.approvals_expired", count=expired)
    return expired


async def sweep_forever(service: "AgentService") -> None:
    """Expire overdue approvals every APPROVAL_SWEEP_INTERVAL_SECONDS (runs in the lifespan)."""
    import asyncio

    while True:
        try:
            await expire_overdue(service)
        except Exception:
            logger.exception("agent.approval_sweep_failed")
        await asyncio.sleep(service.settings.APPROVAL_SWEEP_INTERVAL_SECONDS)
