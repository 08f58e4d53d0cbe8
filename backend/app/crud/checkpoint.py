"""Checkpoint-table queries that LangGraph's savers have no public API for.

Keeping the newest N checkpoints of a thread: `BaseCheckpointSaver.aprune(strategy=
"keep_latest")` keeps only the newest one, and only the PostgreSQL saver implements it (the
SQLite saver raises NotImplementedError). The Agent Protocol's thread history and branching
(a run from an earlier `checkpoint_id`) need more than one, so the newest N are kept here,
following the same rules as LangGraph's own prune: a thread's rows in one short transaction,
the writes of deleted checkpoints deleted, a kept checkpoint's parent link to a deleted one
cleared, and (PostgreSQL) channel blobs no kept checkpoint references freed. Deleting a whole
thread uses the saver's public `adelete_thread`.

Checkpoint ids are UUIDv6, ordered by time: everything older than the N-th newest id goes, so a
checkpoint a run saves meanwhile (a newer id) is never touched.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

# --- PostgreSQL (tables from langgraph-checkpoint-postgres) ---
PG_OVER = """
SELECT thread_id FROM checkpoints WHERE thread_id > %s
GROUP BY thread_id HAVING count(*) > %s ORDER BY thread_id LIMIT %s
"""
PG_CUTOFFS = """
SELECT checkpoint_ns, (
    SELECT checkpoint_id FROM checkpoints c
    WHERE c.thread_id = %(thread)s AND c.checkpoint_ns = n.checkpoint_ns
    ORDER BY checkpoint_id DESC OFFSET %(offset)s LIMIT 1
) AS cutoff
FROM (SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = %(thread)s) AS n
"""
PG_COUNT_OLDER = """
SELECT count(*) AS n FROM checkpoints
WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id < %s
"""
PG_DELETE_WRITES = """
DELETE FROM checkpoint_writes WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id < %s
"""
PG_DELETE_CHECKPOINTS = """
WITH deleted AS (
    DELETE FROM checkpoints WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id < %s
    RETURNING checkpoint -> 'channel_versions' AS versions
)
SELECT DISTINCT v.key AS channel, v.value AS version
FROM deleted CROSS JOIN LATERAL jsonb_each_text(deleted.versions) AS v
"""
PG_CLEAR_PARENTS = """
UPDATE checkpoints SET parent_checkpoint_id = NULL
WHERE thread_id = %s AND checkpoint_ns = %s AND parent_checkpoint_id < %s
"""
PG_REFERENCED_BLOBS = """
SELECT DISTINCT v.key AS channel, v.value AS version
FROM checkpoints c CROSS JOIN LATERAL jsonb_each_text(c.checkpoint -> 'channel_versions') AS v
WHERE c.thread_id = %s AND c.checkpoint_ns = %s
"""
PG_DELETE_BLOBS = """
DELETE FROM checkpoint_blobs
WHERE thread_id = %s AND checkpoint_ns = %s AND channel = %s AND version = ANY(%s)
"""
PG_COUNT = "SELECT count(*) AS n FROM checkpoints WHERE thread_id = %s"
PG_ANY = "SELECT 1 AS found FROM checkpoints WHERE thread_id = %s AND checkpoint_ns = '' LIMIT 1"

# --- SQLite (tables from langgraph-checkpoint-sqlite: values are inline, no blob table) ---
LITE_OVER = """
SELECT thread_id FROM checkpoints WHERE thread_id > ?
GROUP BY thread_id HAVING count(*) > ? ORDER BY thread_id LIMIT ?
"""
LITE_CUTOFFS = """
SELECT n.checkpoint_ns, (
    SELECT checkpoint_id FROM checkpoints c
    WHERE c.thread_id = ? AND c.checkpoint_ns = n.checkpoint_ns
    ORDER BY checkpoint_id DESC LIMIT 1 OFFSET ?
) AS cutoff
FROM (SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = ?) AS n
"""
LITE_COUNT_OLDER = """
SELECT count(*) FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < ?
"""
LITE_DELETE = (
    "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < ?",
    "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < ?",
    "UPDATE checkpoints SET parent_checkpoint_id = NULL "
    "WHERE thread_id = ? AND checkpoint_ns = ? AND parent_checkpoint_id < ?",
)
LITE_COUNT = "SELECT count(*) FROM checkpoints WHERE thread_id = ?"
LITE_ANY = "SELECT 1 FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' LIMIT 1"


@asynccontextmanager
async def _pg(saver: AsyncPostgresSaver) -> AsyncIterator[AsyncConnection[Any]]:
    """A connection of the saver's pool (or its single connection)."""
    conn = saver.conn
    if isinstance(conn, AsyncConnectionPool):
        async with conn.connection() as pooled:
            yield pooled
    else:
        yield conn


def _unsupported(saver: BaseCheckpointSaver[Any]) -> TypeError:
    return TypeError(f"No checkpoint retention queries for {type(saver).__name__}")


async def threads_over(
    saver: BaseCheckpointSaver[Any], keep: int, limit: int, after: str = ""
) -> list[str]:
    """Up to `limit` thread ids after `after` (in id order) holding more than `keep`
    checkpoints."""
    if isinstance(saver, AsyncPostgresSaver):
        async with _pg(saver) as conn:
            rows = await (await conn.execute(PG_OVER, (after, keep, limit))).fetchall()
        return [row["thread_id"] for row in rows]
    if isinstance(saver, AsyncSqliteSaver):
        async with saver.lock, saver.conn.execute(LITE_OVER, (after, keep, limit)) as cur:
            return [row[0] for row in await cur.fetchall()]
    raise _unsupported(saver)


async def count_checkpoints(saver: BaseCheckpointSaver[Any], thread_id: str) -> int:
    """How many checkpoints the thread has (every namespace)."""
    if isinstance(saver, AsyncPostgresSaver):
        async with _pg(saver) as conn:
            row = await (await conn.execute(PG_COUNT, (thread_id,))).fetchone()
        return int(row["n"]) if row else 0
    if isinstance(saver, AsyncSqliteSaver):
        async with saver.lock, saver.conn.execute(LITE_COUNT, (thread_id,)) as cur:
            found = await cur.fetchone()
        return int(found[0]) if found else 0
    raise _unsupported(saver)


async def has_checkpoint(saver: BaseCheckpointSaver[Any], thread_id: str) -> bool:
    """Whether the thread has a checkpoint yet: one index probe, where the saver's `aget_tuple`
    would load the latest checkpoint's whole state (other savers: that, through the public API)."""
    if isinstance(saver, AsyncPostgresSaver):
        async with _pg(saver) as conn:
            return await (await conn.execute(PG_ANY, (thread_id,))).fetchone() is not None
    if isinstance(saver, AsyncSqliteSaver):
        async with saver.lock, saver.conn.execute(LITE_ANY, (thread_id,)) as cur:
            return await cur.fetchone() is not None
    config: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    return await saver.aget_tuple(config) is not None


async def keep_latest(
    saver: BaseCheckpointSaver[Any], thread_id: str, keep: int, *, dry_run: bool = False
) -> int:
    """Delete all but the newest `keep` checkpoints of each namespace of the thread, in one
    transaction; the number deleted (or that would be, with `dry_run`)."""
    if isinstance(saver, AsyncPostgresSaver):
        return await _pg_keep_latest(saver, thread_id, keep, dry_run)
    if isinstance(saver, AsyncSqliteSaver):
        return await _lite_keep_latest(saver, thread_id, keep, dry_run)
    raise _unsupported(saver)


async def _pg_keep_latest(
    saver: AsyncPostgresSaver, thread_id: str, keep: int, dry_run: bool
) -> int:
    deleted = 0
    async with _pg(saver) as conn, conn.transaction():
        params = {"thread": thread_id, "offset": keep - 1}
        cutoffs = await (await conn.execute(PG_CUTOFFS, params)).fetchall()
        for row in cutoffs:
            ns, cutoff = row["checkpoint_ns"], row["cutoff"]
            if cutoff is None:
                continue
            args = (thread_id, ns, cutoff)
            found = await (await conn.execute(PG_COUNT_OLDER, args)).fetchone()
            deleted += int(found["n"]) if found else 0
            if dry_run:
                continue
            await conn.execute(PG_DELETE_WRITES, args)
            freed = await (await conn.execute(PG_DELETE_CHECKPOINTS, args)).fetchall()
            await conn.execute(PG_CLEAR_PARENTS, args)
            referenced = await (await conn.execute(PG_REFERENCED_BLOBS, (thread_id, ns))).fetchall()
            kept = {(r["channel"], r["version"]) for r in referenced}
            garbage: dict[str, list[str]] = {}
            for r in freed:
                if (r["channel"], r["version"]) not in kept:
                    garbage.setdefault(r["channel"], []).append(r["version"])
            for channel, versions in garbage.items():
                await conn.execute(PG_DELETE_BLOBS, (thread_id, ns, channel, versions))
    return deleted


async def _lite_keep_latest(
    saver: AsyncSqliteSaver, thread_id: str, keep: int, dry_run: bool
) -> int:
    deleted = 0
    async with saver.lock:
        async with saver.conn.execute(LITE_CUTOFFS, (thread_id, keep - 1, thread_id)) as cur:
            cutoffs = [(row[0], row[1]) for row in await cur.fetchall()]
        for ns, cutoff in cutoffs:
            if cutoff is None:
                continue
            args = (thread_id, ns, cutoff)
            async with saver.conn.execute(LITE_COUNT_OLDER, args) as cur:
                found = await cur.fetchone()
            deleted += int(found[0]) if found else 0
            if not dry_run:
                for sql in LITE_DELETE:
                    await saver.conn.execute(sql, args)
        if not dry_run:
            await saver.conn.commit()
    return deleted
