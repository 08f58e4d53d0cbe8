"""Evaluation datasets kept in our database (when Langfuse is not configured) and the
experiment runs over them: which agent run answered which dataset item."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import created_at_field


class EvalDataset(SQLModel, table=True):
    """A named set of inputs (with optional expected outputs) to run the agent over."""

    __tablename__ = "eval_dataset"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=255, unique=True, index=True)
    description: str | None = Field(default=None, sa_column=Column(Text))
    dataset_metadata: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON, nullable=False)
    )
    created_at: datetime = created_at_field()


class EvalDatasetItem(SQLModel, table=True):
    """One input of a dataset; its id is derived from the content so re-adding a file is a no-op."""

    __tablename__ = "eval_dataset_item"

    id: str = Field(primary_key=True, max_length=255)
    dataset_id: uuid.UUID = Field(
        foreign_key="eval_dataset.id", nullable=False, ondelete="CASCADE", index=True
    )
    input: str = Field(sa_column=Column(Text, nullable=False))
    expected_output: str | None = Field(default=None, sa_column=Column(Text))
    item_metadata: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON, nullable=False)
    )
    created_at: datetime = created_at_field()


class EvalExperimentRun(SQLModel, table=True):
    """One named run of the agent over a dataset (its judge and prompt versions in metadata)."""

    __tablename__ = "eval_experiment_run"
    __table_args__ = (
        UniqueConstraint("dataset_id", "name", name="uq_eval_experiment_run_dataset_name"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dataset_id: uuid.UUID = Field(
        foreign_key="eval_dataset.id", nullable=False, ondelete="CASCADE", index=True
    )
    name: str = Field(max_length=255)
    run_metadata: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON, nullable=False)
    )
    created_at: datetime = created_at_field()


class EvalExperimentItem(SQLModel, table=True):
    """The agent run (and trace) that answered one dataset item in one experiment run."""

    __tablename__ = "eval_experiment_item"
    __table_args__ = (
        UniqueConstraint("experiment_run_id", "dataset_item_id", name="uq_eval_experiment_item"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    experiment_run_id: uuid.UUID = Field(
        foreign_key="eval_experiment_run.id", nullable=False, ondelete="CASCADE", index=True
    )
    dataset_item_id: str = Field(
        foreign_key="eval_dataset_item.id", nullable=False, ondelete="CASCADE", max_length=255
    )
    agent_run_id: uuid.UUID | None = Field(
        default=None, foreign_key="agent_run.id", nullable=True, ondelete="SET NULL"
    )
    trace_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = created_at_field()
