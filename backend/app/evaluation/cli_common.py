"""What every `agent-eval` command shares: exit codes, consoles, JSON output, error mapping."""

import asyncio
import io
import json
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.evaluation.errors import EvaluationError, EvaluationUsageError

T = TypeVar("T")
EXIT_GATE, EXIT_USAGE, EXIT_RUNTIME = 1, 2, 3
console = Console(soft_wrap=True)  # long lines stay whole in CI logs
err_console = Console(stderr=True, soft_wrap=True)
# Configuration and connection failures: exit 3 with one line, never a traceback.
RUNTIME_ERRORS: tuple[type[BaseException], ...] = (
    EvaluationError,
    OSError,
    SQLAlchemyError,
    ConnectionError,
)


class StoreChoice(StrEnum):
    """--store values."""

    auto = "auto"
    langfuse = "langfuse"
    db = "db"


class CurrentStderr(io.TextIOBase):
    """Writes to whatever `sys.stderr` is at the time (a test runner swaps it per call)."""

    def write(self, text: str) -> int:
        """Forward to the current stderr."""
        return sys.stderr.write(text)

    def flush(self) -> None:
        """Flush the current stderr."""
        sys.stderr.flush()


def fail(message: str, code: int) -> typer.Exit:
    """Print one `error:` line on stderr; the exit to raise."""
    err_console.print(f"error: {message}", highlight=False, markup=False)
    return typer.Exit(code)


def one_line(exc: BaseException) -> str:
    """An exception as one line for the user."""
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    if isinstance(exc, EvaluationError):
        return detail or type(exc).__name__
    status = getattr(exc, "status_code", None)
    if status is not None:
        return f"the server answered {status}: {type(exc).__name__}: {detail}"
    return f"cannot connect or read: {type(exc).__name__}: {detail}"


def print_json(document: dict[str, Any]) -> None:
    """The document alone on stdout (no Rich wrapping or highlighting)."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    sys.stdout.flush()


def run_with_database(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run `work` in a fresh event loop with its own engine (disposed afterwards)."""
    from app.core.db import new_engine

    async def main() -> T:
        engine = new_engine()
        sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        try:
            return await work(sessions)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def exit_for(exc: BaseException) -> typer.Exit:
    """The exit (and `error:` line) for an exception a command could not handle."""
    code = EXIT_USAGE if isinstance(exc, EvaluationUsageError) else EXIT_RUNTIME
    return fail(one_line(exc), code)


def is_api_error(exc: BaseException) -> bool:
    """An HTTP error answer from Langfuse (its SDK's `ApiError`, or httpx's)."""
    return isinstance(getattr(exc, "status_code", None), int) or (
        type(exc).__name__ == "HTTPStatusError"
    )


def run_guarded(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """`run_with_database`, with failures mapped to exit codes 2/3 and one `error:` line."""
    try:
        return run_with_database(work)
    except RUNTIME_ERRORS as exc:
        raise exit_for(exc) from exc
    except Exception as exc:
        if is_api_error(exc):
            raise exit_for(exc) from exc
        raise
