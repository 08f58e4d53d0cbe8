"""agent_run.mode and agent_run.degraded_reason: was the run answered by a fallback model

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 00:40:00

Existing runs were all recorded as answered by the primary (the only name recorded then), so
they read `normal` with no reason.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "mode",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="normal",
            )
        )
        batch_op.add_column(
            sa.Column("degraded_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_run", schema=None) as batch_op:
        batch_op.drop_column("degraded_reason")
        batch_op.drop_column("mode")
