"""Operational endpoints: health check."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import SessionDep
from app.core.redis import redis_status

router = APIRouter(prefix="/utils", tags=["utils"])


@router.get("/health-check/")
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
