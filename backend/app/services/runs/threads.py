"""Threads as records: who owns them, their messages (checkpoint + run log), deletion."""

import uuid
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agents.service import AgentService, message_id
from app.crud import agent_run as crud_run
from app.crud import thread as crud_thread
from app.crud.pages import Cursor
from app.models import (
    AgentRun,
    AgentThread,
    RunStatus,
    ThreadDetail,
    ThreadMessage,
    ThreadPublic,
    ThreadsPublic,
    ToolCallRecord,
    User,
)
from app.services.runs.errors import ThreadNotFoundError


async def owned_thread(session: AsyncSession, user: User, thread_id: uuid.UUID) -> AgentThread:
    """The user's thread; ThreadNotFoundError for a missing, deleted or foreign one."""
    thread = await crud_thread.get_thread(session=session, thread_id=thread_id)
    if thread is None or thread.user_id != user.id:
        raise ThreadNotFoundError()
    return thread


async def readable_thread(session: AsyncSession, user: User, thread_id: uuid.UUID) -> AgentThread:
    """A thread the user may read: their own, or any for a superuser."""
    thread = await crud_thread.get_thread(session=session, thread_id=thread_id)
    if thread is None or (thread.user_id != user.id and not user.is_superuser):
        raise ThreadNotFoundError()
    return thread


async def list_threads(
    session: AsyncSession, user: User, *, skip: int, limit: int, after: Cursor | None = None
) -> ThreadsPublic:
    """The user's threads, most recently active first, and the cursor of the next page."""
    rows, count = await crud_thread.list_threads_for(
        session=session, user_id=user.id, skip=skip, limit=limit + 1, after=after
    )
    page = rows[:limit]
    last = page[-1][0] if len(rows) > limit else None
    return ThreadsPublic(
        data=[
            ThreadPublic(
                thread_id=thread.id,
                title=thread.title,
                status=thread.status,
                last_activity=thread.updated_at,
                run_count=run_count,
            )
            for thread, run_count in page
        ],
        count=count.value,
        count_is_estimate=count.estimated,
        next_cursor=Cursor(last.updated_at, last.id).encode() if last else None,
    )


def _thread_message(message: BaseMessage) -> ThreadMessage | None:
    if isinstance(message, HumanMessage):
        return ThreadMessage(role="user", content=message.text)
    if isinstance(message, ToolMessage):
        return ThreadMessage(
            role="tool", content=message.text, name=message.name, tool_call_id=message.tool_call_id
        )
    if isinstance(message, AIMessage):
        calls = [
            ToolCallRecord(id=c["id"] or "", name=c["name"], args=c["args"])
            for c in message.tool_calls
        ]
        return ThreadMessage(role="assistant", content=message.text, tool_calls=calls)
    return None


def _unfinished(run: AgentRun) -> str | None:
    return None if run.status == RunStatus.success else run.status


def merge_turns(messages: list[Any], runs: list[AgentRun]) -> list[ThreadMessage]:
    """The checkpoint's messages, each user message tagged with its run, plus the user
    message of every turn that never reached the checkpoint (interrupted, failed, queued),
    in the order the runs were made."""
    by_message = {message_id(run.id): run for run in runs}
    placed: set[uuid.UUID] = set()
    merged: list[ThreadMessage] = []

    def lost_turns_before(run: AgentRun | None) -> None:
        for earlier in runs:
            if run is not None and earlier.created_at >= run.created_at:
                break
            if earlier.id not in placed:
                placed.add(earlier.id)
                merged.append(
                    ThreadMessage(
                        role="user",
                        content=earlier.input,
                        run_id=earlier.id,
                        run_status=earlier.status,
                    )
                )

    for message in messages:
        converted = _thread_message(message)
        if converted is None:
            continue
        run = by_message.get(message.id or "") if isinstance(message, HumanMessage) else None
        if run is not None:
            lost_turns_before(run)
            placed.add(run.id)
            converted.run_id = run.id
            converted.run_status = _unfinished(run)
        merged.append(converted)
    lost_turns_before(None)
    return merged


async def thread_detail(
    session: AsyncSession, agent: AgentService, user: User, thread_id: uuid.UUID
) -> ThreadDetail:
    """A thread's messages, with the turns that didn't complete."""
    thread = await readable_thread(session, user, thread_id)
    runs = await crud_run.runs_of_thread(session=session, thread_id=thread_id)
    messages = await agent.thread_messages(thread_id)
    return ThreadDetail(
        thread_id=thread_id, title=thread.title, messages=merge_turns(messages, runs)
    )


async def delete_thread(
    session: AsyncSession, agent: AgentService, user: User, thread_id: uuid.UUID
) -> None:
    """Delete the user's thread and its checkpoints; its runs stay in the history, flagged."""
    await owned_thread(session, user, thread_id)
    await agent.delete_checkpoints(thread_id)
    await crud_thread.delete_thread(session=session, thread_id=thread_id)


async def erase_user_threads(
    session: AsyncSession, agent: AgentService, user_id: uuid.UUID
) -> None:
    """Before an account is deleted: remove its threads' checkpoints (rows go with the user)."""
    for thread_id in await crud_thread.thread_ids_of(session=session, user_id=user_id):
        await agent.delete_checkpoints(thread_id)
