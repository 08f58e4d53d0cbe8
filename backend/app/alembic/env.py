"""Alembic environment: async engine from settings, LangGraph checkpoint tables ignored."""

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.core.config import settings

config = context.config
target_metadata = SQLModel.metadata


def include_object(
    _obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any
) -> bool:
    """Leave LangGraph's checkpoint tables alone: the checkpointer's setup() owns them. The
    trigram indexes (`*_trgm`, app/models/agent.py) exist on PostgreSQL only."""
    if type_ == "table" and name is not None and name.startswith("checkpoint"):
        return False
    postgresql = context.get_context().dialect.name == "postgresql"
    return postgresql or not (type_ == "index" and name is not None and name.endswith("_trgm"))


def get_url() -> str:
    """The database URL: an explicit `sqlalchemy.url` (tests) or the app's settings."""
    return config.get_main_option("sqlalchemy.url") or settings.SQLALCHEMY_DATABASE_URI


def _configure(connection: Connection | None = None, **kwargs: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        render_as_batch=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    _configure(url=get_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    """Run migrations on the async engine."""
    url = get_url()
    if url.startswith("sqlite"):
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    existing = config.attributes.get("connection")
    if existing is not None:
        _run_sync(existing)
    else:
        asyncio.run(run_migrations_online())
