"""Agent records: `AgentThread` per conversation, `AgentRun` per invocation, `AgentEvaluation` per
score; and the API's read models of them (runs, threads, messages, evaluations)."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import pydantic
from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.approval import ApprovalAudit
from app.models.common import UTCDateTime, created_at_field
from app.models.storable import StorableText

RunMode = Literal["normal", "degraded"]
DegradedReason = Literal["fallback", "breaker_open", "timeout"]


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


COUNT_DESCRIPTION = "How many items the list has (see count_is_estimate)"
ESTIMATE_DESCRIPTION = (
    "True when the list has more than 1,000 items and `count` is the database's estimate"
)
CURSOR_DESCRIPTION = "Pass as `cursor` for the next page; null on the last page"


def trigram_index(name: str, column: str) -> Index:
    """A PostgreSQL trigram index (pg_trgm, GIN) for case-insensitive substring search
    (`?q=`); other databases search without one. Names end in `_trgm` (see alembic/env.py)."""
    return Index(
        name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}
    ).ddl_if(dialect="postgresql")


class AgentThread(SQLModel, table=True):
    """A conversation: its owner and title; its messages live in the LangGraph checkpoints."""

    __tablename__ = "agent_thread"
    # Keyset pages of a user's threads (see crud/pages.py).
    __table_args__ = (
        Index("ix_agent_thread_user_updated_id", "user_id", "updated_at", "id"),
        trigram_index("ix_agent_thread_title_trgm", "title"),
    )

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
    # One per history filter, each ending in the keyset (created_at, id): see crud/pages.py.
    __table_args__ = (
        Index("ix_agent_run_user_created_id", "user_id", "created_at", "id"),
        Index("ix_agent_run_user_status_created_id", "user_id", "status", "created_at", "id"),
        Index("ix_agent_run_thread_created_id", "thread_id", "created_at", "id"),
        Index("ix_agent_run_created_id", "created_at", "id"),
        trigram_index("ix_agent_run_input_trgm", "input"),
        trigram_index("ix_agent_run_response_trgm", "response"),
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
    # The model that answered (a fallback's name when the run was degraded).
    model: str | None = Field(default=None, max_length=255)
    # `degraded` when a fallback model answered; why: fallback, breaker_open or timeout.
    mode: str = Field(
        default="normal", max_length=16, sa_column_kwargs={"server_default": "normal"}
    )
    degraded_reason: str | None = Field(default=None, max_length=32)
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


# --- the API's read models: plain pydantic (so `pydantic.Field`; bare `Field` is SQLModel's) ---


class ToolCallStatus(StrEnum):
    """Where a tool call stands, as its recorded result says."""

    pending = "pending"  # no result yet: running, awaiting approval, or cut short
    done = "done"
    failed = "failed"
    rejected = "rejected"  # the user refused it at the approval step: it never ran


# The graph's refusal result says this (app.agents.graph); the status below recognises it.
REFUSED_BY_USER = "refused by the user"


def tool_call_status(output: str | None, ok: bool | None) -> ToolCallStatus:
    """The one derivation of a tool call's status from its result (the `tool_result` event, the
    run log, the checkpoint's tool message): live chat, reloaded chat and run detail agree."""
    if output is None:
        return ToolCallStatus.pending
    if ok is False:
        return ToolCallStatus.rejected if REFUSED_BY_USER in output else ToolCallStatus.failed
    return ToolCallStatus.done


def status_optional_in_schema(schema: dict[str, Any]) -> None:
    """Responses always carry `status`; the schema leaves it optional so that a client building
    such a record itself (a test, a view of a call still running) needn't invent one."""
    schema["required"] = [name for name in schema.get("required", []) if name != "status"]


class ToolCallRecord(pydantic.BaseModel):
    """A tool call and its result."""

    model_config = pydantic.ConfigDict(json_schema_extra=status_optional_in_schema)

    id: str
    name: str
    args: dict[str, Any] = pydantic.Field(default_factory=dict)
    output: str | None = None
    ok: bool | None = None

    @pydantic.computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> ToolCallStatus:
        """pending | done | failed | rejected (`tool_call_status`)."""
        return tool_call_status(self.output, self.ok)


class EvaluationPublic(pydantic.BaseModel):
    """A judge's score for one metric."""

    metric_name: str
    score: float
    eval_metadata: dict[str, Any] = pydantic.Field(default_factory=dict)
    created_at: datetime


class AgentRunPublic(pydantic.BaseModel):
    """A run in the history."""

    id: uuid.UUID
    thread_id: uuid.UUID
    status: str
    input: str
    response: str | None = None
    plan: str | None = None
    error: str | None = None
    model: str | None = None
    mode: RunMode = "normal"
    degraded_reason: DegradedReason | None = None
    trace_id: str | None = None
    trace_url: str | None = None
    latency_ms: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    tool_call_count: int = 0
    thread_deleted: bool = False
    created_at: datetime
    finished_at: datetime | None = None
    evaluations: dict[str, float] = pydantic.Field(default_factory=dict)


class AgentRunDetail(AgentRunPublic):
    """A run with its tool calls, evaluations and metadata."""

    tool_calls: list[ToolCallRecord] = pydantic.Field(default_factory=list)
    evaluations_detail: list[EvaluationPublic] = pydantic.Field(default_factory=list)
    approvals: list[ApprovalAudit] = pydantic.Field(
        default_factory=list, description="The run's approval requests and decisions, oldest first."
    )
    metadata: dict[str, Any] = pydantic.Field(default_factory=dict)


class AgentRunsPublic(pydantic.BaseModel):
    """A page of runs."""

    data: list[AgentRunPublic]
    count: int = pydantic.Field(description=COUNT_DESCRIPTION)
    count_is_estimate: bool = pydantic.Field(default=False, description=ESTIMATE_DESCRIPTION)
    next_cursor: str | None = pydantic.Field(default=None, description=CURSOR_DESCRIPTION)


class ThreadPublic(pydantic.BaseModel):
    """A conversation."""

    thread_id: uuid.UUID
    title: str
    status: str = pydantic.Field(description="idle | busy | interrupted | error")
    last_activity: datetime
    run_count: int


THREAD_TITLE_MAX_CHARS = 120


class ThreadUpdate(pydantic.BaseModel):
    """A new title for a conversation (whitespace collapsed; 1 to 120 characters)."""

    title: StorableText = pydantic.Field(min_length=1, max_length=THREAD_TITLE_MAX_CHARS)

    @pydantic.field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        line = " ".join(value.split())
        if not line:
            raise ValueError("title must not be blank")
        return line


class ThreadsPublic(pydantic.BaseModel):
    """A page of threads."""

    data: list[ThreadPublic]
    count: int = pydantic.Field(description=COUNT_DESCRIPTION)
    count_is_estimate: bool = pydantic.Field(default=False, description=ESTIMATE_DESCRIPTION)
    next_cursor: str | None = pydantic.Field(default=None, description=CURSOR_DESCRIPTION)


class ThreadMessage(pydantic.BaseModel):
    """One message of a thread, from the checkpoint (or, for a turn that never reached it, the run log)."""

    role: Literal["user", "assistant", "tool"]
    content: str
    name: str | None = None
    tool_call_id: str | None = None
    tool_status: ToolCallStatus | None = pydantic.Field(
        default=None, description="On a tool message: its call's status (`tool_call_status`)."
    )
    tool_calls: list[ToolCallRecord] = pydantic.Field(default_factory=list)
    run_id: uuid.UUID | None = pydantic.Field(
        default=None, description="The run a user message started."
    )
    run_status: str | None = pydantic.Field(
        default=None,
        description="On a user message: its run's status when the turn did not complete "
        "(interrupted, error, cancelled, pending, running) — the UI offers a retry.",
    )


class ThreadDetail(pydantic.BaseModel):
    """A conversation with its messages."""

    thread_id: uuid.UUID
    title: str
    messages: list[ThreadMessage]
