"""The async database engine and the one way to open a session."""

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, text
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
            "pool_pre_ping": True,
            "pool_recycle": 1800,
        }
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


engine = new_engine()
SessionMaker = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    """Yield a session for one request (or one unit of background work)."""
    async with SessionMaker() as session:
        yield session


async def ping(session: AsyncSession) -> None:
    """Round-trip to the database; raises when it can't be reached."""
    await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
