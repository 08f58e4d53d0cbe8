"""Human approvals of side-effecting tool calls: one row per request, kept as the audit trail;
the owner's decision, and the API's read models of the rows."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import pydantic
from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.common import UTCDateTime, created_at_field
from app.models.storable import StorableJson, StorableText


class ApprovalStatus(StrEnum):
    """Where an approval stands."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    edited = "edited"
    expired = "expired"
    # A new message was sent on the thread before anyone decided: the paused call never runs.
    superseded = "superseded"


class AgentApproval(SQLModel, table=True):
    """A paused tool call waiting for (or decided by) its run's owner."""

    __tablename__ = "agent_approval"
    __table_args__ = (Index("ix_agent_approval_user_status", "user_id", "status"),)

    id: uuid.UUID = Field(primary_key=True)
    run_id: uuid.UUID = Field(
        foreign_key="agent_run.id", nullable=False, ondelete="CASCADE", index=True
    )
    user_id: uuid.UUID = Field(foreign_key="user.id", nullable=False, ondelete="CASCADE")
    thread_id: uuid.UUID = Field(nullable=False, index=True)
    tool_call_id: str = Field(max_length=255)
    tool: str = Field(max_length=100)
    args: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    edited_args: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Where an outbound call would go and what it would carry (shown on the approval card).
    data_flow: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=ApprovalStatus.pending, max_length=16)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = created_at_field()


# --- API shapes: plain pydantic (so `pydantic.Field`; bare `Field` is SQLModel's) ---


class DataFlowItem(pydantic.BaseModel):
    """One piece of data an outbound call would carry (a query parameter, a body field, ...)."""

    location: Literal["path", "query", "fragment", "body"]
    name: str
    value: str
    from_conversation: bool = pydantic.Field(
        description="The value (or part of it) appears in the user's messages or app data."
    )


class DataFlow(pydantic.BaseModel):
    """Where an outbound call goes and what it would send, shown on the approval card."""

    url: str
    host: str
    items: list[DataFlowItem] = pydantic.Field(default_factory=list)
    carries_conversation_data: bool = False


class ApprovalDecision(pydantic.BaseModel):
    """The owner's decision on a paused tool call."""

    decision: Literal["approve", "reject", "edit"]
    args: StorableJson | None = pydantic.Field(
        default=None, description="Edited arguments (edit only)."
    )
    comment: StorableText | None = pydantic.Field(default=None, max_length=2000)

    @pydantic.model_validator(mode="after")
    def _args_only_with_edit(self) -> "ApprovalDecision":
        if self.decision != "edit" and self.args is not None:
            raise ValueError("args are only accepted with decision=edit")
        return self


class ApprovalPublic(pydantic.BaseModel):
    """An approval request and, once decided, its audit record."""

    id: uuid.UUID
    run_id: uuid.UUID
    thread_id: uuid.UUID
    tool: str
    args: dict[str, Any]
    edited_args: dict[str, Any] | None = None
    reason: str
    data_flow: DataFlow | None = None
    status: str
    comment: str | None = None
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = None
    expires_at: datetime
    created_at: datetime


class ApprovalAudit(ApprovalPublic):
    """An approval as a run's audit trail shows it: with who decided."""

    decided_by_email: str | None = pydantic.Field(
        default=None, description="The account that decided (none when superseded or expired)."
    )


class ApprovalsPublic(pydantic.BaseModel):
    """A page of approvals."""

    data: list[ApprovalPublic]
    count: int
