"""Domain errors of the run layer as HTTP answers: the one place they are mapped."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.services.runs.errors import (
    ApprovalArgsError,
    ApprovalConflictError,
    ApprovalNotFoundError,
    BadEventIdError,
    QueueUnavailableError,
    RunConflictError,
    RunFailedError,
    RunLayerError,
    RunNotFoundError,
    ThreadNotFoundError,
)

STATUS_FOR: dict[type[RunLayerError], int] = {
    ThreadNotFoundError: 404,
    RunNotFoundError: 404,
    ApprovalNotFoundError: 404,
    RunConflictError: 409,
    ApprovalConflictError: 409,
    BadEventIdError: 400,
    QueueUnavailableError: 503,
}
# A run that ended in error, answered by the non-streaming endpoints.
STATUS_FOR_CODE = {
    "model_error": 502,
    "model_timeout": 504,
    "budget_exceeded": 422,
    "guardrail_blocked": 422,
    "interrupted": 503,
    "unavailable": 503,
    "internal": 502,
}


def run_failed_response(error: RunFailedError) -> JSONResponse:
    """`{detail, code, run}` with the status the error's code maps to."""
    status = STATUS_FOR_CODE.get(error.code, 502)
    return JSONResponse(
        status_code=status,
        content={
            "detail": error.message,
            "code": error.code,
            "run": error.result.model_dump(mode="json"),
        },
        headers={"Retry-After": "1"} if status == 503 else None,
    )


async def run_layer_error(_request: Request, exc: Exception) -> JSONResponse:
    """Map a run-layer error to its status with a JSON `detail`."""
    if isinstance(exc, RunFailedError):
        return run_failed_response(exc)
    if isinstance(exc, ApprovalArgsError):
        return JSONResponse(status_code=422, content={"detail": exc.errors})
    assert isinstance(exc, RunLayerError)
    status = next((s for kind, s in STATUS_FOR.items() if isinstance(exc, kind)), 400)
    headers = (
        {"Retry-After": str(QueueUnavailableError.retry_after_s)}
        if isinstance(exc, QueueUnavailableError)
        else None
    )
    return JSONResponse(status_code=status, content={"detail": exc.message}, headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    """Register the run layer's error mapping."""
    app.add_exception_handler(RunLayerError, run_layer_error)
