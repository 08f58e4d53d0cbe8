"""evaluation datasets and experiment runs; per-metric human labels on feedback

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-02 00:30:00

Datasets live here only when Langfuse is not configured (with Langfuse they are Langfuse datasets).
`agent_feedback.labels` holds a user's per-metric pass/fail labels (NULL: none given).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
import app.models.common

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "eval_dataset",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.common.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_eval_dataset_name"), "eval_dataset", ["name"], unique=True)
    op.create_table(
        "eval_dataset_item",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("expected_output", sa.Text(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.common.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["eval_dataset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_eval_dataset_item_dataset_id"), "eval_dataset_item", ["dataset_id"], unique=False
    )
    op.create_table(
        "eval_experiment_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.common.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["eval_dataset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset_id", "name", name="uq_eval_experiment_run_dataset_name"),
    )
    op.create_index(
        op.f("ix_eval_experiment_run_dataset_id"), "eval_experiment_run", ["dataset_id"], unique=False
    )
    op.create_table(
        "eval_experiment_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("experiment_run_id", sa.Uuid(), nullable=False),
        sa.Column("dataset_item_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("agent_run_id", sa.Uuid(), nullable=True),
        sa.Column("trace_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", app.models.common.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_run_id"], ["agent_run.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["dataset_item_id"], ["eval_dataset_item.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["experiment_run_id"], ["eval_experiment_run.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "experiment_run_id", "dataset_item_id", name="uq_eval_experiment_item"
        ),
    )
    op.create_index(
        op.f("ix_eval_experiment_item_experiment_run_id"),
        "eval_experiment_item",
        ["experiment_run_id"],
        unique=False,
    )
    with op.batch_alter_table("agent_feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("labels", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_feedback", schema=None) as batch_op:
        batch_op.drop_column("labels")
    op.drop_index(
        op.f("ix_eval_experiment_item_experiment_run_id"), table_name="eval_experiment_item"
    )
    op.drop_table("eval_experiment_item")
    op.drop_index(op.f("ix_eval_experiment_run_dataset_id"), table_name="eval_experiment_run")
    op.drop_table("eval_experiment_run")
    op.drop_index(op.f("ix_eval_dataset_item_dataset_id"), table_name="eval_dataset_item")
    op.drop_table("eval_dataset_item")
    op.drop_index(op.f("ix_eval_dataset_name"), table_name="eval_dataset")
    op.drop_table("eval_dataset")
