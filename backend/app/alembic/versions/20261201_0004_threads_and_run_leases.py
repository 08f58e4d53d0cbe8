"""threads as records, run leases, approval data flow

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:00:00

Creates `agent_thread` and back-fills it from the run log (owner = the user of the thread's
first run, title from its first message), and adds the queue/lease columns to `agent_run`.
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.models.common

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

THREAD_STATUS_AFTER = {"awaiting_approval": "interrupted", "error": "error", "interrupted": "error"}


def _title(first_message: str) -> str:
    line = " ".join(first_message.split())
    return line if len(line) <= 80 else line[:77] + "..."


def upgrade() -> None:
    thread = op.create_table(
        "agent_thread",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.common.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.models.common.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agent_thread", schema=None) as batch_op:
        batch_op.create_index("ix_agent_thread_user_updated", ["user_id", "updated_at"], unique=False)
    with op.batch_alter_table("agent_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_at", app.models.common.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", app.models.common.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )

    with op.batch_alter_table("agent_approval", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_flow", sa.JSON(), nullable=True))

    run = sa.table(
        "agent_run",
        sa.column("thread_id", sa.Uuid()),
        sa.column("user_id", sa.Uuid()),
        sa.column("input", sa.Text()),
        sa.column("status", sa.String()),
        sa.column("thread_deleted", sa.Boolean()),
        sa.column("created_at", app.models.common.UTCDateTime()),
    )
    rows = op.get_bind().execute(
        sa.select(run).where(run.c.thread_deleted.is_(False)).order_by(run.c.created_at)
    )
    threads: dict[Any, dict[str, Any]] = {}
    for row in rows:
        found = threads.get(row.thread_id)
        if found is None:
            threads[row.thread_id] = found = {
                "id": row.thread_id,
                "user_id": row.user_id,
                "title": _title(row.input),
                "metadata": {},
                "created_at": row.created_at,
            }
        found["updated_at"] = row.created_at
        found["status"] = THREAD_STATUS_AFTER.get(row.status, "idle")
    if threads:
        op.bulk_insert(thread, list(threads.values()))


def downgrade() -> None:
    with op.batch_alter_table("agent_approval", schema=None) as batch_op:
        batch_op.drop_column("data_flow")
    with op.batch_alter_table("agent_run", schema=None) as batch_op:
        batch_op.drop_column("worker_id")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("queued_at")
    with op.batch_alter_table("agent_thread", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_thread_user_updated")
    op.drop_table("agent_thread")
