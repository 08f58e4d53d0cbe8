"""LangGraph state snapshots as the SDK's `ThreadState`."""

import uuid
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import PregelTask, StateSnapshot

from app.agents.service import jsonable
from app.services.protocol.schemas import CheckpointRef, ThreadState, ThreadTask


def checkpoint_ref(config: RunnableConfig | None) -> CheckpointRef | None:
    """The checkpoint a config points at."""
    if not config:
        return None
    configurable = config.get("configurable") or {}
    return CheckpointRef(
        thread_id=str(configurable.get("thread_id")),
        checkpoint_ns=configurable.get("checkpoint_ns") or "",
        checkpoint_id=configurable.get("checkpoint_id"),
    )


def task_interrupts(task: PregelTask) -> list[dict[str, Any]]:
    """A task's pending interrupts as `{id, value}`."""
    return [
        {"id": paused.id, "value": jsonable({"v": paused.value})["v"]} for paused in task.interrupts
    ]


def interrupts_by_task(snapshot: StateSnapshot) -> dict[str, list[dict[str, Any]]]:
    """The state's pending interrupts by task id (the SDK's `Thread.interrupts`)."""
    return {task.id: task_interrupts(task) for task in snapshot.tasks if task.interrupts}


def interrupts_of(snapshot: StateSnapshot) -> list[dict[str, Any]]:
    """Every pending interrupt of the state, as `{id, value}`."""
    return [paused for task in snapshot.tasks for paused in task_interrupts(task)]


def thread_state(snapshot: StateSnapshot) -> ThreadState:
    """The snapshot in the SDK's shape."""
    tasks = [
        ThreadTask(
            id=task.id,
            name=task.name,
            error=repr(task.error) if task.error else None,
            interrupts=task_interrupts(task),
        )
        for task in snapshot.tasks
    ]
    checkpoint = checkpoint_ref(snapshot.config)
    assert checkpoint is not None
    return ThreadState(
        values=jsonable(snapshot.values),
        next=list(snapshot.next),
        checkpoint=checkpoint,
        metadata=jsonable(snapshot.metadata or {}),
        created_at=snapshot.created_at,
        parent_checkpoint=checkpoint_ref(snapshot.parent_config),
        tasks=tasks,
        interrupts=interrupts_of(snapshot),
    )


def empty_state(thread_id: uuid.UUID) -> ThreadState:
    """The state of a thread nothing has run on yet."""
    return ThreadState(
        values={},
        next=[],
        checkpoint=CheckpointRef(thread_id=str(thread_id), checkpoint_ns="", checkpoint_id=None),
        metadata={},
        created_at=None,
        parent_checkpoint=None,
        tasks=[],
    )
