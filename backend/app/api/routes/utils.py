"""Operational endpoints: health check, the browser's public configuration."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import RuntimeDep, SessionDep
from app.core.config import settings
from app.core.db import ping
from app.core.redis import redis_status
from app.models import ClientConfig, HealthPublic

router = APIRouter(prefix="/utils", tags=["utils"])


@router.get("/client-config/")
async def client_config() -> ClientConfig:
    """Public UI settings: which origins chat answers may show images from."""
    origins = settings.CHAT_IMAGE_ALLOWED_ORIGINS
    items = [origins] if isinstance(origins, str) else origins
    return ClientConfig(chat_image_allowed_origins=[o.rstrip("/") for o in items if o.strip()])


@router.get(
    "/health-check/",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "The database is down"}},
)
async def health_check(session: SessionDep, runtime: RuntimeDep) -> JSONResponse:
    """Readiness: 503 when the database is down; Redis and MCP servers are reported."""
    checks: dict[str, Any] = {}
    try:
        await ping(session)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    checks["redis"] = await redis_status()
    # Redis only holds rate-limit buckets, shared by every replica: failing readiness on it
    # would take them all out of rotation at once. The limiter applies RATE_LIMIT_FAIL_OPEN
    # instead, and the check reports "degraded".
    # MCP servers only add tools: one that is down leaves its tools out, it doesn't fail runs.
    mcp = runtime.agent.mcp
    checks["mcp"] = mcp.health() if mcp is not None else "disabled"
    soft = ("redis", "mcp")
    healthy = all(value in ("ok", "disabled") for key, value in checks.items() if key not in soft)
    degraded = healthy and (checks["redis"] == "error" or checks["mcp"] == "degraded")
    return JSONResponse(
        status_code=200 if healthy else 503,
        content={
            "status": "degraded" if degraded else "ok" if healthy else "error",
            "checks": checks,
        },
    )
