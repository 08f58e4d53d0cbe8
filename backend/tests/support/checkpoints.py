"""Reading LangGraph's checkpoint tables straight from the database (not through the app)."""

import sqlite3

import psycopg

from app.agents.checkpointer import sqlite_checkpoint_path
from app.core.config import settings


def checkpoint_rows(thread_id: str) -> dict[str, int]:
    """Rows of the thread in each checkpoint table, read straight from the database."""
    if settings.is_postgres:
        tables = ("checkpoints", "checkpoint_writes", "checkpoint_blobs")
        with psycopg.connect(settings.psycopg_conninfo) as conn:
            return {
                table: conn.execute(
                    f"SELECT count(*) FROM {table} WHERE thread_id = %s",
                    (thread_id,),
                ).fetchone()[0]
                for table in tables
            }
    with sqlite3.connect(sqlite_checkpoint_path(settings)) as conn:
        return {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE thread_id = ?",
                (thread_id,),
            ).fetchone()[0]
            for table in ("checkpoints", "writes")
        }
