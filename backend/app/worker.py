"""The worker command: execute queued runs, apart from the API (`python -m app.worker`).

Needs Redis (REDIS_URL): the queue, the event logs and cancel requests go through it, so API
replicas and worker replicas scale separately. SIGTERM/SIGINT stop taking jobs; the runs in
flight get GRACEFUL_SHUTDOWN_SECONDS to finish, and those still going are recorded
`interrupted` (the user can retry them) before the process exits.
"""

import asyncio
import signal

import structlog

from app.core.config import settings
from app.core.logging import configure_logging
from app.core.metrics import init_metrics, shutdown_metrics
from app.core.metrics_server import start_metrics_server
from app.core.redis import close_redis, open_redis
from app.core.telemetry import init_telemetry, shutdown_telemetry
from app.services.runs.runtime import describe, open_runtime

logger = structlog.get_logger(__name__)


async def serve() -> None:
    """Run until SIGTERM or SIGINT."""
    if settings.redis_url is None:
        raise SystemExit(
            "The worker needs Redis: set REDIS_URL. Without Redis the API process runs the "
            "agent itself (AGENT_INPROCESS_WORKER=true)."
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    init_metrics()
    port = settings.WORKER_METRICS_PORT
    stop_metrics = await asyncio.to_thread(start_metrics_server, port) if port else None
    init_telemetry()
    await open_redis()
    try:
        async with open_runtime(settings, executes_runs=True) as runtime:
            logger.info("worker.ready", **describe(runtime))
            await stop.wait()
            logger.info("worker.stopping", in_flight=len(runtime.cancels.in_flight()))
            runtime.drain_s = settings.GRACEFUL_SHUTDOWN_SECONDS
    finally:
        await close_redis()
        await shutdown_telemetry()
        if stop_metrics is not None:
            await asyncio.to_thread(stop_metrics)
        shutdown_metrics()


def main() -> None:
    """Entry point of `agent-worker` and `python -m app.worker`."""
    configure_logging(settings)
    asyncio.run(serve())


if __name__ == "__main__":
    main()
