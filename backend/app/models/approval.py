"""Human approvals of side-effecting tool calls: one row per request, kept as the audit trail."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.common import UTCDateTime, created_at_field


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
