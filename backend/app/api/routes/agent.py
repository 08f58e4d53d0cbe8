"""Agent endpoints: run (JSON or Server-Sent Events), cancel, run history, threads."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.agents.schemas import (
    AgentConfigPublic,
    AgentRunDetail,
    AgentRunPublic,
    AgentRunRequest,
    AgentRunResult,
    AgentRunsPublic,
    AgentStreamEnvelope,
    ErrorEvent,
    ThreadDetail,
    ThreadsPublic,
)
from app.agents.service import AgentRunError, AgentService, PreparedRun, ThreadNotFoundError
from app.api.deps import CurrentUser, SessionDep, SkipQuery
from app.core.config import settings
from app.core.rate_limit import agent_rate_limit
from app.core.telemetry import tracing_enabled
from app.crud import crud_agent
from app.models import Message, RunStatus
from app.services import agent_runs

router = APIRouter(prefix="/agent", tags=["agent"])
RUN_NOT_FOUND = "Run not found"
THREAD_NOT_FOUND = "Thread not found"


def get_agent_service(request: Request) -> AgentService:
    """The app's agent service (created in the lifespan)."""
    service: AgentService = request.app.state.agent_service
    return service


AgentServiceDep = Annotated[AgentService, Depends(get_agent_service)]


async def _prepare(service: AgentService, user: Any, body: AgentRunRequest) -> PreparedRun:
    try:
        return await service.prepare_run(user, body)
    except ThreadNotFoundError:
        raise HTTPException(status_code=404, detail=THREAD_NOT_FOUND) from None


def event_stream(service: AgentService, prepared: PreparedRun) -> EventSourceResponse:
    """Stream a prepared run as Server-Sent Events (one `event:` + JSON `data:` per event)."""

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            async for event in service.stream(prepared):
                yield ServerSentEvent(data=event.model_dump_json(), event=event.type)
        except Exception:  # the stream must end with an event, not a dropped connection
            error = ErrorEvent(code="internal", message="Internal error", run_id=prepared.run_id)
            yield ServerSentEvent(data=error.model_dump_json(), event=error.type)

    return EventSourceResponse(events(), ping=15, headers={"X-Accel-Buffering": "no"})


def error_response(error: AgentRunError) -> JSONResponse:
    return JSONResponse(
        status_code=error.status_code,
        content={
            "detail": error.message,
            "code": error.code,
            "run": error.result.model_dump(mode="json"),
        },
    )


@router.post(
    "/run",
    response_model=AgentRunResult,
    dependencies=[Depends(agent_rate_limit)],
    responses={
        404: {"description": "Thread not found"},
        429: {"description": "Rate limit or budget exceeded (see Retry-After)"},
        502: {"description": "The model failed"},
        504: {"description": "The model timed out"},
    },
)
async def run_agent(
    body: AgentRunRequest, current_user: CurrentUser, service: AgentServiceDep
) -> Any:
    """Run the agent and wait for its answer."""
    prepared = await _prepare(service, current_user, body)
    try:
        return await service.execute(prepared)
    except AgentRunError as error:
        return error_response(error)


@router.post(
    "/run/stream",
    response_class=EventSourceResponse,
    dependencies=[Depends(agent_rate_limit)],
    responses={
        200: {
            "description": "Server-Sent Events; each `data:` is an AgentStreamEnvelope's `event`.",
            "model": AgentStreamEnvelope,
            "content": {"text/event-stream": {}},
        },
        404: {"description": "Thread not found"},
        429: {"description": "Rate limit or budget exceeded (see Retry-After)"},
    },
)
async def run_agent_stream(
    body: AgentRunRequest, current_user: CurrentUser, service: AgentServiceDep
) -> EventSourceResponse:
    """Run the agent and stream its plan, tool calls and answer as Server-Sent Events."""
    return event_stream(service, await _prepare(service, current_user, body))


@router.post("/runs/{run_id}/cancel", response_model=AgentRunPublic)
async def cancel_run(
    run_id: uuid.UUID, session: SessionDep, current_user: CurrentUser, service: AgentServiceDep
) -> Any:
    """Cancel a running run."""
    run = await crud_agent.get_run_for(session=session, user=current_user, run_id=run_id)
    if run is None or run.user_id != current_user.id:
        raise HTTPException(status_code=404, detail=RUN_NOT_FOUND)
    if run.status != RunStatus.running:
        raise HTTPException(status_code=409, detail=f"Run is not running (status: {run.status})")
    await service.cancel(run_id)
    await session.refresh(run)
    return agent_runs.run_public(run, [])


@router.get("/runs", response_model=AgentRunsPublic)
async def list_runs(
    session: SessionDep,
    current_user: CurrentUser,
    skip: SkipQuery = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    thread_id: uuid.UUID | None = None,
    status: RunStatus | None = None,
) -> Any:
    """Run history, newest first."""
    return await agent_runs.list_runs(
        session,
        current_user,
        skip=skip,
        limit=limit,
        thread_id=thread_id,
        status=status.value if status else None,
    )


@router.get("/runs/{run_id}", response_model=AgentRunDetail)
async def read_run(run_id: uuid.UUID, session: SessionDep, current_user: CurrentUser) -> Any:
    """One run with its tool calls and evaluations."""
    detail = await agent_runs.run_detail(session, current_user, run_id)
    if detail is None:
        raise HTTPException(status_code=404, detail=RUN_NOT_FOUND)
    return detail


@router.get("/threads", response_model=ThreadsPublic)
async def list_threads(
    session: SessionDep,
    current_user: CurrentUser,
    skip: SkipQuery = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """The current user's conversations, most recent first."""
    return await agent_runs.list_threads(session, current_user, skip=skip, limit=limit)


@router.get("/threads/{thread_id}", response_model=ThreadDetail)
async def read_thread(
    thread_id: uuid.UUID, session: SessionDep, current_user: CurrentUser, service: AgentServiceDep
) -> Any:
    """A conversation's messages."""
    detail = await agent_runs.thread_detail(session, service, current_user, thread_id)
    if detail is None:
        raise HTTPException(status_code=404, detail=THREAD_NOT_FOUND)
    return detail


@router.delete("/threads/{thread_id}")
async def delete_thread(
    thread_id: uuid.UUID, session: SessionDep, current_user: CurrentUser, service: AgentServiceDep
) -> Message:
    """Delete a conversation's checkpoints; its runs stay in the history, flagged deleted."""
    owner = await crud_agent.thread_owner(session=session, thread_id=thread_id)
    if owner != current_user.id or not await agent_runs.visible_thread(
        session, current_user, thread_id
    ):
        raise HTTPException(status_code=404, detail=THREAD_NOT_FOUND)
    await service.delete_thread(thread_id)
    return Message(message="Thread deleted")


@router.get("/config", response_model=AgentConfigPublic)
async def agent_config(_user: CurrentUser, service: AgentServiceDep) -> Any:
    """What the chat UI needs: input limit, model and whether tracing is on."""
    return AgentConfigPublic(
        max_input_chars=settings.AGENT_MAX_INPUT_CHARS,
        model_provider=settings.llm_provider,
        model_name=service.models.name,
        tracing_enabled=tracing_enabled(),
    )
