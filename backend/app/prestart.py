"""Prepare the database before serving: wait for it, migrate, create the first superuser.

Run once before the workers start (`python -m app.prestart`), so several workers never race on
migrations or on the checkpointer's own schema set-up.
"""

import asyncio

import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from tenacity import before_sleep_log, retry, stop_after_delay, wait_fixed

from app.core.config import BACKEND_DIR, settings
from app.core.db import SessionMaker, engine
from app.core.logging import configure_logging
from app.crud import user as crud_user
from app.models import UserCreate

logger = structlog.get_logger(__name__)


@retry(stop=stop_after_delay(60), wait=wait_fixed(1), before_sleep=before_sleep_log(logger, 30))
async def wait_for_database() -> None:
    """Retry `SELECT 1` for up to a minute."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def run_migrations() -> None:
    """`alembic upgrade head` with the app's settings."""
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(BACKEND_DIR / "app" / "alembic"))
    command.upgrade(config, "head")


async def create_first_superuser() -> None:
    """Create FIRST_SUPERUSER unless it exists."""
    async with SessionMaker() as session:
        if await crud_user.get_user_by_email(session=session, email=settings.FIRST_SUPERUSER):
            return
        await crud_user.create_user(
            session=session,
            user_create=UserCreate(
                email=settings.FIRST_SUPERUSER,
                password=settings.FIRST_SUPERUSER_PASSWORD,
                is_superuser=True,
                full_name="Admin",
            ),
        )
        logger.info("prestart.superuser_created", email=settings.FIRST_SUPERUSER)


async def setup_checkpointer_schema() -> None:
    """Create LangGraph's checkpoint tables once (no-op until the agent module provides it)."""
    try:
        from app.agents.checkpointer import setup_checkpointer_schema as setup
    except ImportError:
        return
    await setup(settings)


async def main() -> None:
    """Wait, migrate, seed."""
    configure_logging(settings)
    await wait_for_database()
    await asyncio.to_thread(run_migrations)
    await setup_checkpointer_schema()
    await create_first_superuser()
    await engine.dispose()
    logger.info("prestart.done")


if __name__ == "__main__":
    asyncio.run(main())
