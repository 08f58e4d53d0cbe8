"""The async database engine and the one way to open a session."""

import select
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import settings


def new_engine() -> AsyncEngine:
    """Build the async engine for PostgreSQL (psycopg 3) or the embedded SQLite file."""
    url = settings.SQLALCHEMY_DATABASE_URI
    kwargs: dict[str, Any] = {"echo": settings.DB_ECHO}
    if url.startswith("sqlite"):
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs |= {
            "pool_size": settings.DB_POOL_SIZE,
            "max_overflow": settings.DB_MAX_OVERFLOW,
            # No pre-ping (a round trip per checkout, 4 per run): `_drop_dead_connections`
            # checks the socket instead, which costs no round trip.
            "pool_pre_ping": False,
            "pool_recycle": 1800,
        }
    engine = create_async_engine(url, **kwargs)
    if not url.startswith("sqlite"):
        event.listen(engine.sync_engine.pool, "checkout", _drop_dead_connections)
    if url.startswith("sqlite"):

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


def _drop_dead_connections(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed; the pool then retries with another.

    An idle PostgreSQL connection has nothing to read: when its socket is readable, the server
    sent a termination notice or closed it (restart, `pg_terminate_backend`, idle timeout).
    Raising DisconnectionError makes SQLAlchemy's pool discard it and check out a new one.
    """
    connection = dbapi_connection.driver_connection
    if connection.closed or _readable(connection.fileno()):
        raise exc.DisconnectionError("the server closed this pooled connection")


def _readable(fd: int) -> bool:
    """Is there something to read on `fd`, without waiting? poll(), not select(): select()
    refuses descriptors from 1024 up, which a process with many open streams reaches."""
    if not hasattr(select, "poll"):  # Windows: its select() has no such limit
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


engine = new_engine()
SessionMaker = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    """Yield a session for one request (or one unit of background work)."""
    async with SessionMaker() as session:
        yield session


async def ping(session: AsyncSession) -> None:
    """Round-trip to the database; raises when it can't be reached."""
    await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
