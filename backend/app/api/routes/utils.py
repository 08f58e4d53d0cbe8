"""Operational endpoints: health check, the browser's public configuration."""

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import SessionDep
from app.core.config import settings
from app.core.redis import redis_status

router = APIRouter(prefix="/utils", tags=["utils"])


class ClientConfig(BaseModel):
    """Settings the browser needs before login (nothing secret)."""

    chat_image_allowed_origins: list[str]


@router.get("/client-config/")
async def client_config() -> ClientConfig:
    """Public UI settings: which origins chat answers may show images from."""
    origins = settings.CHAT_IMAGE_ALLOWED_ORIGINS
    items = [origins] if isinstance(origins, str) else origins
    return ClientConfig(chat_image_allowed_origins=[o.rstrip("/") for o in items if o.strip()])


class HealthPublic(BaseModel):
    """Readiness: `ok`, `degraded` (Redis down) or `error`, with each dependency's check."""

    status: Literal["ok", "degraded", "error"]
    checks: dict[str, str]


@router.get(
    "/health-check/",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "The database is down"}},
)
async def health_check(session: SessionDep) -> JSONResponse:
    """Readiness: 503 when the database is down; Redis is reported (ok/error/disabled)."""
    checks: dict[str, Any] = {}
    try:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    checks["redis"] = await redis_status()
    # Redis only holds rate-limit buckets, shared by every replica: failing readiness on it
    # would take them all out of rotation at once. The limiter applies RATE_LIMIT_FAIL_OPEN
    # instead, and the check reports "degraded".
    healthy = all(value in ("ok", "disabled") for key, value in checks.items() if key != "redis")
    degraded = healthy and checks["redis"] == "error"
    return JSONResponse(
        status_code=200 if healthy else 503,
        content={
            "status": "degraded" if degraded else "ok" if healthy else "error",
            "checks": checks,
        },
    )
