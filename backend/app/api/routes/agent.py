"""Agent endpoints: start runs (JSON or Server-Sent Events), join, cancel, history, threads."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse

from app.agents.catalog import tool_groups
from app.agents.schemas import AgentRunRequest, AgentRunResult
from app.api.deps import CurrentUser, CursorQuery, RuntimeDep, SessionDep, SkipQuery
from app.api.errors import (
    ErrorBody,
    authenticated_responses,
    error_responses,
    run_error_responses,
)
from app.api.rate_limit import agent_rate_limit
from app.api.run_responses import SSE_RESPONSES, event_stream, wait_for_result
from app.core.config import settings
from app.core.telemetry import tracing_enabled
from app.crud import agent_run as crud_run
from app.models import (
    AgentConfigPublic,
    AgentRunDetail,
    AgentRunPublic,
    AgentRunsPublic,
    Message,
    RunStatus,
    ThreadDetail,
    ThreadPublic,
    ThreadsPublic,
    ThreadUpdate,
)
from app.models.storable import StorableText
from app.services import agent_runs
from app.services.runs import cancel, prepare, streams, threads
from app.services.runs.errors import RunNotFoundError

router = APIRouter(prefix="/agent", tags=["agent"], responses=authenticated_responses())


@router.post(
    "/run",
    response_model=AgentRunResult,
    dependencies=[Depends(agent_rate_limit)],
    responses={**error_responses(429), **run_error_responses(422, 502, 503, 504)},
)
async def run_agent(
    body: AgentRunRequest, current_user: CurrentUser, runtime: RuntimeDep, request: Request
) -> Any:
    """Run the agent and wait for its answer (disconnecting before it ends cancels the run,
    unless `on_disconnect` is `continue`)."""
    queued = await prepare.start_run(runtime, current_user, body, stream_tokens=False)
    return await wait_for_result(
        runtime, queued, request, cancel_on_disconnect=body.on_disconnect == "cancel"
    )


@router.post(
    "/run/stream",
    response_class=EventSourceResponse,
    dependencies=[Depends(agent_rate_limit)],
    responses={
        **SSE_RESPONSES,
        **error_responses(429),
    },
)
async def run_agent_stream(
    body: AgentRunRequest, current_user: CurrentUser, runtime: RuntimeDep
) -> EventSourceResponse:
    """Run the agent and stream its plan, tool calls and answer as Server-Sent Events."""
    queued = await prepare.start_run(runtime, current_user, body, stream_tokens=True)
    return event_stream(
        runtime, queued.run_id, None, cancel_on_disconnect=body.on_disconnect == "cancel"
    )


@router.get(
    "/runs/{run_id}/stream",
    response_class=EventSourceResponse,
    responses={
        **SSE_RESPONSES,
        400: {"model": ErrorBody, "description": "Last-Event-ID is not an event id of this run"},
    },
)
async def join_run_stream(
    run_id: uuid.UUID,
    session: SessionDep,
    current_user: CurrentUser,
    runtime: RuntimeDep,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
    after: Annotated[str | None, Query(max_length=64, description="Like Last-Event-ID.")] = None,
) -> EventSourceResponse:
    """Join a running or finished run: every event after `Last-Event-ID`, then the live tail."""
    run = await crud_run.get_run_for(session=session, user=current_user, run_id=run_id)
    if run is None or run.user_id != current_user.id:
        raise RunNotFoundError()
    cursor = await streams.join_cursor(runtime, run_id, last_event_id or after)
    return event_stream(runtime, run_id, cursor, cancel_on_disconnect=False, joining=True)


@router.post("/runs/{run_id}/cancel", response_model=AgentRunPublic, responses=error_responses(409))
async def cancel_run(
    run_id: uuid.UUID, session: SessionDep, current_user: CurrentUser, runtime: RuntimeDep
) -> Any:
    """Cancel a queued or running run, whichever process executes it."""
    run = await crud_run.get_run_for(session=session, user=current_user, run_id=run_id)
    if run is None or run.user_id != current_user.id:
        raise RunNotFoundError()
    return agent_runs.run_public(await cancel.cancel_run(runtime, run_id), [])


@router.get("/runs", response_model=AgentRunsPublic)
async def list_runs(
    session: SessionDep,
    current_user: CurrentUser,
    cursor: CursorQuery,
    skip: SkipQuery = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    thread_id: uuid.UUID | None = None,
    status: RunStatus | None = None,
) -> Any:
    """Run history, newest first (page with `cursor`; `skip` is slow for deep pages)."""
    return await agent_runs.list_runs(
        session,
        current_user,
        skip=skip,
        limit=limit,
        thread_id=thread_id,
        status=status.value if status else None,
        after=cursor,
    )


@router.get("/runs/{run_id}", response_model=AgentRunDetail)
async def read_run(run_id: uuid.UUID, session: SessionDep, current_user: CurrentUser) -> Any:
    """One run with its tool calls and evaluations."""
    detail = await agent_runs.run_detail(session, current_user, run_id)
    if detail is None:
        raise RunNotFoundError()
    return detail


@router.get("/threads", response_model=ThreadsPublic)
async def list_threads(
    session: SessionDep,
    current_user: CurrentUser,
    cursor: CursorQuery,
    skip: SkipQuery = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    q: Annotated[
        StorableText | None,
        Query(
            max_length=200,
            description="Only conversations whose title, or a message or answer, contains this "
            "(case-insensitive).",
        ),
    ] = None,
) -> Any:
    """The current user's conversations, most recent first (page with `cursor`)."""
    query = " ".join(q.split()) if q else None
    return await threads.list_threads(
        session, current_user, skip=skip, limit=limit, after=cursor, query=query or None
    )


@router.patch("/threads/{thread_id}", response_model=ThreadPublic)
async def rename_thread(
    thread_id: uuid.UUID, body: ThreadUpdate, session: SessionDep, current_user: CurrentUser
) -> Any:
    """Rename one of your conversations."""
    return await threads.rename_thread(session, current_user, thread_id, body.title)


@router.get("/threads/{thread_id}", response_model=ThreadDetail)
async def read_thread(
    thread_id: uuid.UUID, session: SessionDep, current_user: CurrentUser, runtime: RuntimeDep
) -> Any:
    """A conversation's messages, including turns that did not complete (with their status)."""
    return await threads.thread_detail(session, runtime.agent, current_user, thread_id)


@router.delete("/threads/{thread_id}")
async def delete_thread(
    thread_id: uuid.UUID, session: SessionDep, current_user: CurrentUser, runtime: RuntimeDep
) -> Message:
    """Delete a conversation and its checkpoints; its runs stay in the history, flagged deleted."""
    await threads.delete_thread(session, runtime.agent, current_user, thread_id)
    return Message(message="Thread deleted")


@router.get("/config", response_model=AgentConfigPublic)
async def agent_config(current_user: CurrentUser, runtime: RuntimeDep) -> Any:
    """What the chat UI needs: input limit, model, tracing, and the tools by source."""
    agent = runtime.agent
    tools = agent.tools_for(current_user.id, current_user.is_superuser)
    return AgentConfigPublic(
        max_input_chars=settings.AGENT_MAX_INPUT_CHARS,
        model_provider=settings.llm_provider,
        model_name=agent.models.name,
        tracing_enabled=tracing_enabled(),
        protocol_path=settings.AGENT_PROTOCOL_PATH,
        tool_groups=tool_groups(tools, settings, agent.mcp.status() if agent.mcp else {}),
    )
