"""Human feedback on agent runs, and background evaluation jobs started from the API."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import StringConstraints
from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import UTCDateTime, created_at_field
from app.models.storable import StorableText

MetricLabel = Literal["pass", "fail"]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


class AgentFeedbackCreate(SQLModel):
    """A thumbs up (1) or down (-1) on a run, with an optional comment and optional per-metric
    human labels (metric name -> pass/fail; only the evaluation's metric names are accepted)."""

    score: Literal[1, -1]
    comment: StorableText | None = Field(default=None, max_length=2000)
    labels: dict[MetricName, MetricLabel] | None = Field(
        default=None,
        max_length=50,
        description='Per-metric human labels, e.g. {"hallucination": "fail"}.',
    )


class AgentFeedback(SQLModel, table=True):
    """One user's feedback on one run (one row per user and run; updated in place)."""

    __tablename__ = "agent_feedback"
    __table_args__ = (UniqueConstraint("run_id", "user_id", name="uq_agent_feedback_run_user"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    run_id: uuid.UUID = Field(
        foreign_key="agent_run.id", nullable=False, ondelete="CASCADE", index=True
    )
    user_id: uuid.UUID = Field(
        foreign_key="user.id", nullable=False, ondelete="CASCADE", index=True
    )
    score: int
    comment: str | None = Field(default=None, sa_column=Column(Text))
    labels: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class AgentFeedbackPublic(SQLModel):
    """Feedback as the API returns it."""

    id: uuid.UUID
    run_id: uuid.UUID
    user_id: uuid.UUID
    score: int
    comment: str | None = None
    labels: dict[str, str] | None = None
    created_at: datetime
    updated_at: datetime


class FeedbackMetricPublic(SQLModel):
    """A metric a person can label in feedback."""

    name: str
    description: str


class FeedbackMetricsPublic(SQLModel):
    """The metrics feedback labels may name."""

    data: list[FeedbackMetricPublic]


class EvaluationJobStatus(StrEnum):
    """Lifecycle of an evaluation job."""

    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"
    interrupted = "interrupted"


class EvaluationJob(SQLModel, table=True):
    """An evaluation started from the API; progress and summary are persisted as it runs."""

    __tablename__ = "evaluation_job"
    __table_args__ = (Index("ix_evaluation_job_status_created", "status", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_by: uuid.UUID | None = Field(
        default=None, foreign_key="user.id", nullable=True, ondelete="SET NULL"
    )
    status: str = Field(default=EvaluationJobStatus.queued, max_length=32)
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    report_path: str | None = Field(default=None, max_length=1024)
    traces_seen: int = 0
    judgments_total: int = 0
    judgments_done: int = 0
    judgments_failed: int = 0
    judgments_skipped: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))
    worker: str | None = Field(default=None, max_length=255)
    created_at: datetime = created_at_field()
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EvaluationJobPublic(SQLModel):
    """A job's status, progress counters and (when finished) its summary."""

    id: uuid.UUID
    created_by: uuid.UUID | None
    status: str
    options: dict[str, Any]
    summary: dict[str, Any] | None = None
    report_path: str | None = None
    traces_seen: int
    judgments_total: int
    judgments_done: int
    judgments_failed: int
    judgments_skipped: int
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    finished_at: datetime | None = None


class EvaluationJobsPublic(SQLModel):
    """A page of jobs."""

    data: list[EvaluationJobPublic]
    count: int
