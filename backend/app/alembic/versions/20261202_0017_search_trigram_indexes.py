"""Search indexes: trigram (pg_trgm, GIN) on thread titles and run inputs and answers

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-02 03:50:00

`GET /agent/threads?q=` finds a case-insensitive substring in a thread's title or in any of its
runs' messages and answers. Without an index that is a scan of every run of the user; a trigram
GIN index answers `ILIKE '%…%'` from the index. PostgreSQL only (SQLite, the embedded default,
scans). pg_trgm ships with PostgreSQL and is a trusted extension (13+): the database's owner can
create it. The indexes are built CONCURRENTLY (no write lock on a large table).
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_agent_thread_title_trgm", "agent_thread", "title"),
    ("ix_agent_run_input_trgm", "agent_run", "input"),
    ("ix_agent_run_response_trgm", "agent_run", "response"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    try:
        with op.get_context().autocommit_block():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # say what to do instead of a bare driver error
        raise RuntimeError(
            "Migration 0017 needs the pg_trgm extension (shipped with PostgreSQL's contrib "
            "package) and a role allowed to create it. Run `CREATE EXTENSION pg_trgm;` in the "
            f"app's database as its owner or a superuser, then start again. ({exc})"
        ) from exc
    with op.get_context().autocommit_block():
        for name, table, column in INDEXES:
            op.create_index(
                name,
                table,
                [column],
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
                postgresql_concurrently=True,
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for name, table, _column in INDEXES:
            op.drop_index(name, table_name=table, postgresql_concurrently=True)
