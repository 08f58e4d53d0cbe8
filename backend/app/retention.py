"""`agent-retention` / `python -m app.retention`: apply checkpoint retention and the idle-thread
TTL now (the same job the queue runs every AGENT_RETENTION_INTERVAL_SECONDS).

    agent-retention --dry-run          # count what would go, delete nothing
    agent-retention --keep 20 --ttl-days 90

Prints the report as JSON. Exit codes: 0 done, 3 configuration or connection error.
"""

import asyncio
import json
import sys
from typing import Annotated

import typer

from app.agents.checkpointer import open_checkpointer
from app.core.config import Settings, settings
from app.core.logging import configure_logging
from app.services.retention import RetentionReport, apply_retention

EXIT_RUNTIME = 3
app = typer.Typer(add_completion=False, rich_markup_mode=None)


async def _run(config: Settings, dry_run: bool) -> RetentionReport:
    async with open_checkpointer(config) as checkpointer:
        return await apply_retention(config, checkpointer, dry_run=dry_run)


@app.command()
def retention(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
    keep: Annotated[
        int | None,
        typer.Option(min=0, help="Checkpoints to keep per thread (AGENT_CHECKPOINT_RETENTION)."),
    ] = None,
    ttl_days: Annotated[
        float | None,
        typer.Option(min=0, help="Delete threads idle this many days (AGENT_THREAD_TTL_DAYS)."),
    ] = None,
) -> None:
    """Keep the newest checkpoints of every thread and delete threads idle past the TTL."""
    update: dict[str, object] = {}
    if keep is not None:
        update["AGENT_CHECKPOINT_RETENTION"] = keep
    if ttl_days is not None:
        update["AGENT_THREAD_TTL_DAYS"] = ttl_days
    config = settings.model_copy(update=update)
    try:
        report = asyncio.run(_run(config, dry_run))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_RUNTIME) from None
    print(json.dumps(report.model_dump()))


def main() -> None:
    """Entry point of `agent-retention`."""
    configure_logging(settings)
    app()


if __name__ == "__main__":
    main()
