"""Agent records: `AgentThread` per conversation, `AgentRun` per invocation, `AgentEvaluation` per score."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import UTCDateTime, created_at_field


class RunStatus(StrEnum):
    """Lifecycle of a run: pending (queued) → running (a worker holds its lease) → an end state."""

    pending = "pending"
    running = "running"
    success = "success"
    error = "error"
    cancelled = "cancelled"
    interrupted = "interrupted"
    awaiting_approval = "awaiting_approval"
    blocked = "blocked"  # refused by a guardrail (app.agents.guardrails)


ACTIVE_RUN_STATUSES = (RunStatus.pending, RunStatus.running)


class ThreadStatus(StrEnum):
    """Where a conversation stands (the Agent Protocol's thread statuses)."""

    idle = "idle"
    busy = "busy"
    interrupted = "interrupted"
    error = "error"


class AgentThread(SQLModel, table=True):
    """A conversation: its owner and title; its messages live in the LangGraph checkpoints."""

    __tablename__ = "agent_thread"
    __table_args__ = (Index("ix_agent_thread_user_updated", "user_id", "updated_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", nullable=False, ondelete="CASCADE")
    title: str = Field(default="", max_length=255)
    status: str = Field(default=ThreadStatus.idle, max_length=16)
    thread_metadata: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON, nullable=False)
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class AgentRun(SQLModel, table=True):
    """One agent invocation: input, outcome, cost and where to find its trace."""

    __tablename__ = "agent_run"
    __table_args__ = (
        Index("ix_agent_run_user_created", "user_id", "created_at"),
        Index("ix_agent_run_thread_created", "thread_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", nullable=False, ondelete="CASCADE")
    thread_id: uuid.UUID = Field(nullable=False)
    trace_id: str | None = Field(default=None, max_length=64, index=True)
    input: str = Field(sa_column=Column(Text, nullable=False))
    response: str | None = Field(default=None, sa_column=Column(Text))
    plan: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(default=RunStatus.pending, max_length=32, index=True)
    error: str | None = Field(default=None, sa_column=Column(Text))
    model: str | None = Field(default=None, max_length=255)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    tool_call_count: int = 0
    latency_ms: int | None = None
    thread_deleted: bool = False
    created_at: datetime = created_at_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when the run is (re)queued; a pending run no worker takes in time is failed.
    queued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The worker executing the run renews this; past it, the run is presumed dead.
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    worker_id: str | None = Field(default=None, max_length=64)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    run_metadata: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON, nullable=False)
    )


class AgentEvaluation(SQLModel, table=True):
    """A judge's score for one metric of one run."""

    __tablename__ = "agent_evaluation"
    # One score per run, metric, judge model and prompt version (older rows have NULLs there).
    __table_args__ = (
        UniqueConstraint(
            "run_id", "metric_name", "judge_model", "prompt_version", name="uq_agent_evaluation_key"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    run_id: uuid.UUID = Field(
        foreign_key="agent_run.id", nullable=False, ondelete="CASCADE", index=True
    )
    metric_name: str = Field(max_length=100)
    judge_model: str | None = Field(default=None, max_length=200)
    prompt_version: str | None = Field(default=None, max_length=64)
    score: float
    eval_metadata: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = created_at_field()
