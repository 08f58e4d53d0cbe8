"""LangGraph checkpointers: AsyncPostgresSaver on a connection pool, or AsyncSqliteSaver."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from app.core.config import Settings

# Arbitrary constant: serialises `setup()` across workers that start at the same time.
SETUP_LOCK_KEY = 727_274_001


def sqlite_checkpoint_path(config: Settings) -> Path:
    """Checkpoints live beside the app's SQLite file, in their own file."""
    url = config.SQLALCHEMY_DATABASE_URI
    db_path = Path(url.split(":///", 1)[1]) if ":///" in url else config.DATA_DIR / "app.db"
    return db_path.with_name(db_path.stem + ".checkpoints.db")


async def setup_checkpointer_schema(config: Settings) -> None:
    """Create or upgrade the checkpoint tables once, under an advisory lock on PostgreSQL."""
    if not config.is_postgres:
        path = sqlite_checkpoint_path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(path) as conn:
            await AsyncSqliteSaver(conn).setup()
        return
    async with await AsyncConnection.connect(
        config.psycopg_conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row
    ) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK_KEY,))
        try:
            await AsyncPostgresSaver(conn).setup()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK_KEY,))


@asynccontextmanager
async def open_checkpointer(config: Settings) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Open the checkpointer for the app's lifetime (inside the running event loop)."""
    await setup_checkpointer_schema(config)
    if not config.is_postgres:
        async with aiosqlite.connect(sqlite_checkpoint_path(config)) as conn:
            yield AsyncSqliteSaver(conn)
        return
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        conninfo=config.psycopg_conninfo,
        min_size=1,
        max_size=config.CHECKPOINT_POOL_MAX_SIZE,
        kwargs={"autocommit": True, "row_factory": dict_row, "prepare_threshold": 0},
        check=AsyncConnectionPool.check_connection,
        max_idle=300,
        max_lifetime=1800,
        open=False,
    )
    await pool.open(wait=True, timeout=30)
    try:
        yield AsyncPostgresSaver(pool)
    finally:
        await pool.close()
