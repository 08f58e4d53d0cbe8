"""LangGraph state snapshots as the SDK's `ThreadState`."""

import uuid
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import StateSnapshot

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


def interrupts_of(snapshot: StateSnapshot) -> list[dict[str, Any]]:
    """Every pending interrupt of the state, as `{id, value}`."""
    return [
        {"id": paused.id, "value": jsonable({"v": paused.value}).get("v")}
        for task in snapshot.tasks
        for paused in task.interrupts
    ]


def thread_state(snapshot: StateSnapshot) -> ThreadState:
    """The snapshot in the SDK's shape."""
    tasks = [
        ThreadTask(
            id=task.id,
            name=task.name,
            error=repr(task.error) if task.error else None,
            interrupts=[
                {"id": paused.id, "value": jsonable({"v": paused.value}).get("v")}
                for paused in task.interrupts
            ],
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
