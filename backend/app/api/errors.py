"""The one place errors become HTTP answers, and the shapes OpenAPI documents for them.

Two body shapes: validation errors keep FastAPI's `HTTPValidationError` (`detail` is a list of
`{loc, msg, type}`), every other error is `ErrorBody` (`{detail, code}`), plus the run for a run
that failed (`RunErrorBody`).
"""

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.agents.schemas import AgentRunResult
from app.api.session_cookies import clear_session_cookies
from app.core.request_context import request_id_from_scope
from app.crud.errors import AlreadyExistsError, StoreError, from_integrity_error
from app.models.storable import ERROR_TYPE as UNSTORABLE
from app.models.storable import printable_key
from app.services.auth.errors import (
    ApiKeyLimitError,
    ApiKeyRejectedError,
    AuthError,
    CsrfError,
    LoginThrottledError,
    RefreshRejectedError,
)
from app.services.budget import BudgetExceededError
from app.services.evaluation_jobs import (
    EvaluationQueueUnavailable,
    InvalidOptionError,
    JobAlreadyRunning,
)
from app.services.feedback_labels import FeedbackLabelError
from app.services.runs.errors import (
    ApprovalArgsError,
    ApprovalConflictError,
    ApprovalNotFoundError,
    AssistantNotFoundError,
    BadEventIdError,
    CheckpointNotFoundError,
    ClientGoneError,
    ProtocolInputError,
    QueueUnavailableError,
    RunConflictError,
    RunFailedError,
    RunLayerError,
    RunNotFoundError,
    ThreadBusyError,
    ThreadExistsError,
    ThreadNotFoundError,
)

logger = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    """An error answer: a message for people and a stable code for programs."""

    detail: str = Field(description="What went wrong, fit to show to the user.")
    code: str = Field(description="A stable machine-readable code, e.g. `not_found`.")


class RunErrorBody(ErrorBody):
    """A run that ended in error: the code and the run as recorded."""

    run: AgentRunResult


class ValidationErrorItem(BaseModel):
    """One validation error (FastAPI's `ValidationError`)."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """FastAPI's `HTTPValidationError`, for operations that document their 422 themselves."""

    detail: list[ValidationErrorItem]


# The code an HTTPException gets unless it sets its own (`code` attribute).
CODE_FOR_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    422: "unprocessable",
    429: "rate_limited",
    500: "internal",
    502: "bad_gateway",
    503: "unavailable",
    504: "timeout",
}
DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed (invalid credentials or not enough privileges)",
    404: "Not found (or not yours)",
    409: "Conflicts with stored data (e.g. already exists, already decided)",
    413: "Request body too large",
    429: "Rate limit or budget exceeded (see Retry-After)",
    500: "Internal server error",
    502: "The model failed",
    503: "Temporarily unavailable (see Retry-After)",
    504: "The model timed out",
}
RUN_LAYER_STATUS: dict[type[RunLayerError], tuple[int, str]] = {
    ThreadNotFoundError: (404, "not_found"),
    RunNotFoundError: (404, "not_found"),
    CheckpointNotFoundError: (404, "not_found"),
    AssistantNotFoundError: (404, "not_found"),
    ApprovalNotFoundError: (404, "not_found"),
    RunConflictError: (409, "conflict"),
    ThreadBusyError: (409, "conflict"),
    ThreadExistsError: (409, "conflict"),
    ProtocolInputError: (422, "unprocessable"),
    ApprovalConflictError: (409, "conflict"),
    BadEventIdError: (400, "bad_event_id"),
    QueueUnavailableError: (503, "unavailable"),
    # Nginx's "client closed request": nobody receives it, but the access log shows it.
    ClientGoneError: (499, "client_closed_request"),
}
# A run that ended in error, answered by the non-streaming endpoints.
STATUS_FOR_CODE = {
    "model_error": 502,
    "model_timeout": 504,
    "model_unavailable": 503,
    "budget_exceeded": 422,
    "guardrail_blocked": 422,
    "interrupted": 503,
    "unavailable": 503,
    "internal": 502,
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting these statuses with the `ErrorBody` model."""
    return {s: {"model": ErrorBody, "description": DESCRIPTIONS[s]} for s in statuses}


def common_responses() -> dict[int | str, dict[str, Any]]:
    """Any operation: a body over the size limit, the database busy, an internal error."""
    return error_responses(413, 500, 503)


def authenticated_responses() -> dict[int | str, dict[str, Any]]:
    """Operations behind a bearer token: missing/invalid token, inactive or deleted user."""
    return error_responses(400, 401, 403, 404)


def run_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of a run that can fail with these statuses (422 also validation)."""
    responses: dict[int | str, dict[str, Any]] = {
        s: {"model": RunErrorBody | ErrorBody, "description": DESCRIPTIONS[s]}
        for s in statuses
        if s != 422
    }
    if 422 in statuses:
        responses[422] = {
            "model": ValidationErrorBody | RunErrorBody,
            "description": "Invalid input, or the run was refused by a guardrail or budget",
        }
    return responses


def error_response(
    status: int, detail: str, code: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """An `ErrorBody` answer."""
    return JSONResponse(
        status_code=status, content={"detail": detail, "code": code}, headers=headers
    )


def validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    """422 in FastAPI's shape; a path inside a JSON value (`ctx.path`) extends `loc`."""
    items = []
    for err in errors:
        ctx = err.get("ctx") or {}
        inner = ctx.get("path", ()) if err.get("type") == UNSTORABLE else ()
        loc = [*err.get("loc", ()), *inner]
        items.append(
            {
                "type": err.get("type", "value_error"),
                "loc": [printable_key(p) if isinstance(p, str) else p for p in loc],
                "msg": printable_key(str(err.get("msg", ""))),
            }
        )
    return JSONResponse(status_code=422, content={"detail": items})


def body_error(field: str, message: str) -> JSONResponse:
    """422 for one field of the body, found invalid after validation."""
    return validation_response([{"type": "value_error", "loc": ("body", field), "msg": message}])


def _retry_after(code: str) -> dict[str, str]:
    """Every model's breaker open: retry once they may have cooled down; else in a second."""
    from app.core.config import settings

    seconds = settings.LLM_BREAKER_COOLDOWN_SECONDS if code == "model_unavailable" else 1
    return {"Retry-After": str(max(1, round(seconds)))}


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
        headers=_retry_after(error.code) if status == 503 else None,
    )


async def run_layer_error(_request: Request, exc: Exception) -> JSONResponse:
    """A run-layer error: its status and code."""
    if isinstance(exc, RunFailedError):
        return run_failed_response(exc)
    if isinstance(exc, ApprovalArgsError):
        # The tool's own schema rejected the edited arguments: located inside `args`.
        return validation_response(
            [{**e, "loc": ("body", "args", *e.get("loc", ()))} for e in exc.errors]  # type: ignore[misc]
        )
    assert isinstance(exc, RunLayerError)
    status, code = next(
        (pair for kind, pair in RUN_LAYER_STATUS.items() if isinstance(exc, kind)),
        (400, "bad_request"),
    )
    headers = (
        {"Retry-After": str(QueueUnavailableError.retry_after_s)}
        if isinstance(exc, QueueUnavailableError)
        else None
    )
    return error_response(status, exc.message, code, headers)


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """An HTTPException (ours, FastAPI's or Starlette's) as `{detail, code}`."""
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None) or CODE_FOR_STATUS.get(exc.status_code, "error")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, str(exc.detail), code, headers)


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with a JSON-safe `detail` (input values, which may not serialise, are dropped)."""
    assert isinstance(exc, RequestValidationError)
    return validation_response(list(exc.errors()))


async def store_error(_request: Request, exc: Exception) -> JSONResponse:
    """A write refused by a constraint: 409 (already exists, conflict) or 404 (gone)."""
    if isinstance(exc, IntegrityError):
        exc = from_integrity_error(exc)
    assert isinstance(exc, StoreError)
    status = 409 if isinstance(exc, AlreadyExistsError) or exc.code == "conflict" else 404
    return error_response(status, exc.message, exc.code)


async def database_rejected_value(request: Request, exc: Exception) -> JSONResponse:
    """422 when the database refuses a value validation let through (a backstop)."""
    assert isinstance(exc, DataError)
    logger.warning(
        "request.database_rejected_value",
        path=request.url.path,
        error_type=type(exc.orig).__name__,
        request_id=request_id_from_scope(request.scope),
    )
    return validation_response(
        [{"type": "unstorable_value", "loc": (), "msg": "A value can't be stored"}]
    )


async def evaluation_error(_request: Request, exc: Exception) -> JSONResponse:
    """Evaluation options that can't run (422 on the field), a job already running (409), or
    the queue unavailable (503)."""
    if isinstance(exc, InvalidOptionError):
        return body_error(exc.field, str(exc))
    if isinstance(exc, EvaluationQueueUnavailable):
        return error_response(
            503,
            "The job queue is unavailable, please retry shortly",
            "unavailable",
            {"Retry-After": "2"},
        )
    return error_response(409, str(exc), "conflict")


async def feedback_label_error(_request: Request, exc: Exception) -> JSONResponse:
    """Labels naming no metric: 422 on `labels`, like a validation error."""
    return body_error("labels", str(exc))


async def database_busy(request: Request, _exc: Exception) -> JSONResponse:
    """503 with Retry-After when every database connection is in use (not a 500)."""
    logger.warning("request.database_pool_exhausted", path=request.url.path)
    return error_response(
        503, "The service is busy, please retry shortly", "unavailable", {"Retry-After": "2"}
    )


async def unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: log the error and answer a JSON 500 without internals."""
    request_id = request_id_from_scope(request.scope)
    logger.exception(
        "request.unhandled_error",
        path=request.url.path,
        error_type=type(exc).__name__,
        request_id=request_id,
    )
    headers = {"X-Request-ID": request_id} if request_id else None
    return error_response(500, "Internal server error", "internal", headers)


async def budget_error(_request: Request, exc: Exception) -> JSONResponse:
    """A budget that refuses the run: 429 with Retry-After."""
    assert isinstance(exc, BudgetExceededError)
    return error_response(429, exc.message, exc.code, exc.headers)


AUTH_STATUS_FOR: dict[type[AuthError], int] = {
    RefreshRejectedError: 401,
    CsrfError: 403,
    LoginThrottledError: 429,
    ApiKeyRejectedError: 401,
    ApiKeyLimitError: 409,
}


async def auth_error(_request: Request, exc: Exception) -> JSONResponse:
    """Map a sign-in error to `{detail, code}` with its status (and headers)."""
    assert isinstance(exc, AuthError)
    status = next((s for kind, s in AUTH_STATUS_FOR.items() if isinstance(exc, kind)), 400)
    headers = (
        {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, LoginThrottledError) else None
    )
    response = error_response(status, exc.message, exc.code, headers)
    if isinstance(exc, RefreshRejectedError):
        clear_session_cookies(response)  # a dead session: the browser can drop its cookies
    return response


def add_error_handlers(app: FastAPI) -> None:
    """Register every mapping above."""
    app.add_exception_handler(Exception, unhandled_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(RunLayerError, run_layer_error)
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(IntegrityError, store_error)
    app.add_exception_handler(DataError, database_rejected_value)
    app.add_exception_handler(SQLAlchemyTimeoutError, database_busy)
    app.add_exception_handler(InvalidOptionError, evaluation_error)
    app.add_exception_handler(JobAlreadyRunning, evaluation_error)
    app.add_exception_handler(EvaluationQueueUnavailable, evaluation_error)
    app.add_exception_handler(FeedbackLabelError, feedback_label_error)
    app.add_exception_handler(AuthError, auth_error)
    app.add_exception_handler(BudgetExceededError, budget_error)
