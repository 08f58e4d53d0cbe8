"""agent_evaluation keyed by (run, metric, judge model, prompt version)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:05:00

A score only counts as "already scored" for the judge model and prompt version that produced it.
Existing rows keep NULL in both columns: no current judge matches them, so they are judged again.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_evaluation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("judge_model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("prompt_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_unique_constraint(
            "uq_agent_evaluation_key", ["run_id", "metric_name", "judge_model", "prompt_version"]
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_evaluation", schema=None) as batch_op:
        batch_op.drop_constraint("uq_agent_evaluation_key", type_="unique")
        batch_op.drop_column("prompt_version")
        batch_op.drop_column("judge_model")
