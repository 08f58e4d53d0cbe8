"""History indexes: one per list filter, ending in (time, id) for keyset pages

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-02 00:30:00

`GET /agent/runs` and `GET /agent/threads` page newest first on (created_at, id) and
(updated_at, id); each filter gets an index whose columns are the filter's equalities followed
by that pair, so the first page, a page after any cursor and a filtered page are each one index
range scan. On PostgreSQL the indexes are built CONCURRENTLY (no write lock on a large table).
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = (
    ("ix_agent_run_user_created_id", "agent_run", ["user_id", "created_at", "id"]),
    ("ix_agent_run_user_status_created_id", "agent_run", ["user_id", "status", "created_at", "id"]),
    ("ix_agent_run_thread_created_id", "agent_run", ["thread_id", "created_at", "id"]),
    ("ix_agent_run_created_id", "agent_run", ["created_at", "id"]),
    ("ix_agent_thread_user_updated_id", "agent_thread", ["user_id", "updated_at", "id"]),
)
# Prefixes of the new ones.
OLD = (
    ("ix_agent_run_user_created", "agent_run", ["user_id", "created_at"]),
    ("ix_agent_run_thread_created", "agent_run", ["thread_id", "created_at"]),
    ("ix_agent_thread_user_updated", "agent_thread", ["user_id", "updated_at"]),
)


def _create(indexes: Sequence[tuple[str, str, list[str]]]) -> None:
    with op.get_context().autocommit_block():
        for name, table, columns in indexes:
            op.create_index(name, table, columns, postgresql_concurrently=True)


def _drop(indexes: Sequence[tuple[str, str, list[str]]]) -> None:
    with op.get_context().autocommit_block():
        for name, table, _columns in indexes:
            op.drop_index(name, table_name=table, postgresql_concurrently=True)


def upgrade() -> None:
    _create(NEW)
    _drop(OLD)


def downgrade() -> None:
    _create(OLD)
    _drop(NEW)
