"""The FastAPI application: middleware, routers, lifespan, and the built frontend."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from app.api.errors import add_error_handlers, unhandled_error
from app.api.main import api_router
from app.api.mcp_endpoint import McpEndpoint, build_mcp_server, serving
from app.api.rate_limit import RateLimitHeadersMiddleware
from app.api.routes.agent_protocol import router as agent_protocol_router
from app.api.shutdown import ShutdownWatch
from app.core.body_limit import BodySizeLimitMiddleware
from app.core.client_ip import TrustedProxyHeadersMiddleware
from app.core.config import settings
from app.core.json_body import JsonBodyAsTextMiddleware
from app.core.logging import configure_logging
from app.core.metrics import init_metrics, shutdown_metrics
from app.core.metrics import router as metrics_router
from app.core.redis import close_redis, open_redis
from app.core.request_context import RequestContextMiddleware
from app.core.security_headers import SecurityHeadersMiddleware
from app.core.spa import mount_frontend
from app.core.telemetry import init_telemetry, shutdown_telemetry
from app.core.unhandled_errors import UnhandledErrorMiddleware
from app.services import evaluation_jobs
from app.services.auth.session_cache import session_cache
from app.services.runs.runtime import describe, open_runtime

logger = structlog.get_logger(__name__)


def custom_generate_unique_id(route: APIRoute) -> str:
    """OpenAPI operation ids `{tag}-{name}` so the generated client reads well."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open shared resources at start-up and close them at shutdown."""
    logger.info(
        "app.startup", env=settings.APP_ENV, database=settings.SQLALCHEMY_DATABASE_URI.split(":")[0]
    )
    init_metrics()
    init_telemetry()
    await open_redis()
    await session_cache.start(settings.redis_url)
    app.state.shutdown = watch = ShutdownWatch()
    watch.start()
    async with (
        open_runtime(settings, executes_runs=settings.AGENT_INPROCESS_WORKER) as runtime,
        serving(app.state.mcp_server),
    ):
        app.state.runs = runtime
        logger.info("runs.ready", **describe(runtime))
        sweeper = asyncio.create_task(evaluation_jobs.sweep_forever())
        yield
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await evaluation_jobs.shutdown_jobs()
        # The runs this process executes get what is left of the grace its requests had.
        runtime.drain_s = watch.left(settings.GRACEFUL_SHUTDOWN_SECONDS)
    await watch.stop()
    await session_cache.stop()
    await close_redis()
    await shutdown_telemetry()
    shutdown_metrics()
    from app.core.db import engine

    await engine.dispose()


def create_app() -> FastAPI:
    """Build the application."""
    configure_logging(settings)
    app = FastAPI(
        title=settings.PROJECT_NAME,
        openapi_url=f"{settings.API_V1_STR}/openapi.json",
        generate_unique_id_function=custom_generate_unique_id,
        lifespan=lifespan,
    )
    add_error_handlers(app)
    # Innermost: an unhandled error's 500 passes every middleware below (security headers, CORS).
    app.add_middleware(UnhandledErrorMiddleware, handler=unhandled_error)
    # Added before CORS so CORS wraps it: a 413 still carries the CORS headers.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.MAX_REQUEST_BODY_BYTES)
    app.add_middleware(RateLimitHeadersMiddleware)
    # agent-chat-ui's proxy sends JSON bodies as text/plain: read them as JSON on the protocol.
    app.add_middleware(JsonBodyAsTextMiddleware, path_prefix=settings.AGENT_PROTOCOL_PATH)
    if settings.all_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.all_cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "Content-Location",  # Agent Protocol clients read the run id from it
                "Location",  # ...and rejoin a dropped stream there
            ],
        )
    if settings.SECURITY_HEADERS_ENABLED:
        # Outside CORS and the limits: errors and preflights get the headers too.
        app.add_middleware(SecurityHeadersMiddleware, config=settings)
    # Outermost of our middleware: every response, CORS preflights included, gets the id.
    app.add_middleware(RequestContextMiddleware)
    # Outside everything: logs, limits and the login throttle all see the real client.
    app.add_middleware(TrustedProxyHeadersMiddleware)
    app.include_router(api_router, prefix=settings.API_V1_STR)
    app.include_router(agent_protocol_router, prefix=settings.AGENT_PROTOCOL_PATH)
    app.state.mcp_server = build_mcp_server()
    if settings.AGENT_MCP_ENDPOINT_PATH:
        endpoint = McpEndpoint(app.state.mcp_server, lambda: app.state.runs)
        app.router.routes.append(Route(settings.AGENT_MCP_ENDPOINT_PATH, endpoint))
    if settings.METRICS_ENABLED:
        app.include_router(metrics_router)
    if settings.FRONTEND_DIST_DIR:
        mount_frontend(
            app,
            settings.FRONTEND_DIST_DIR,
            tuple(
                p
                for p in (
                    settings.API_V1_STR,
                    settings.AGENT_PROTOCOL_PATH,
                    settings.AGENT_MCP_ENDPOINT_PATH,
                )
                if p
            ),
        )
    return app


app = create_app()
