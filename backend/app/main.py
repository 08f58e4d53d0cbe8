"""The FastAPI application: middleware, routers, lifespan, and the built frontend."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware

from app.api.main import api_router
from app.core.config import settings
from app.core.logging import configure_logging
from app.core.spa import mount_frontend

logger = structlog.get_logger(__name__)


def custom_generate_unique_id(route: APIRoute) -> str:
    """OpenAPI operation ids `{tag}-{name}` so the generated client reads well."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Open shared resources at start-up and close them at shutdown."""
    logger.info("app.startup", env=settings.APP_ENV, database=settings.SQLALCHEMY_DATABASE_URI.split(":")[0])
    yield
    from app.core.db import engine

    await engine.dispose()


async def unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: log the error and answer a JSON 500 without internals."""
    logger.exception("request.unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return JSONResponse(status_code=500, content={"detail": "Internal server error"})


async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with a JSON-safe `detail` (input values that can't be serialised are dropped)."""
    errors = [{k: v for k, v in err.items() if k in ("type", "loc", "msg")} for err in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": errors})


def create_app() -> FastAPI:
    """Build the application."""
    configure_logging(settings)
    app = FastAPI(
        title=settings.PROJECT_NAME,
        openapi_url=f"{settings.API_V1_STR}/openapi.json",
        generate_unique_id_function=custom_generate_unique_id,
        lifespan=lifespan,
    )
    app.add_exception_handler(Exception, unhandled_error)
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    if settings.all_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.all_cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining"],
        )
    app.include_router(api_router, prefix=settings.API_V1_STR)
    if settings.FRONTEND_DIST_DIR:
        mount_frontend(app, settings.FRONTEND_DIST_DIR, settings.API_V1_STR)
    return app


app = create_app()
