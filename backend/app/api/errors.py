"""Domain errors (run layer, sign-in) as HTTP answers: the one place they are mapped."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.api.session_cookies import clear_session_cookies
from app.services.auth.errors import (
    AuthError,
    CsrfError,
    LoginThrottledError,
    RefreshRejectedError,
)
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


AUTH_STATUS_FOR: dict[type[AuthError], int] = {
    RefreshRejectedError: 401,
    CsrfError: 403,
    LoginThrottledError: 429,
}


async def auth_error(_request: Request, exc: Exception) -> JSONResponse:
    """Map a sign-in error to `{detail, code}` with its status (and headers)."""
    assert isinstance(exc, AuthError)
    status = next((s for kind, s in AUTH_STATUS_FOR.items() if isinstance(exc, kind)), 400)
    response = JSONResponse(status_code=status, content={"detail": exc.message, "code": exc.code})
    if isinstance(exc, LoginThrottledError):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, RefreshRejectedError):
        clear_session_cookies(response)  # a dead session: the browser can drop its cookies
    return response


def add_error_handlers(app: FastAPI) -> None:
    """Register the domain error mappings."""
    app.add_exception_handler(RunLayerError, run_layer_error)
    app.add_exception_handler(AuthError, auth_error)
