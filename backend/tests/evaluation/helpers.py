"""Helpers for evaluation tests: traces in the fake Langfuse (via the real SDK), runs in the DB."""

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from langfuse import propagate_attributes

from app.core import telemetry
from app.core.db import SessionMaker
from app.models import AgentRun, RunStatus
from tests.fakes.langfuse import LangfuseFake


def seed_traces(
    fake: LangfuseFake, count: int, *, tags: list[str] | None = None, prefix: str = "q"
) -> list[str]:
    """Create `count` traces through the Langfuse SDK (as the app does) and wait for them."""
    client = telemetry.get_langfuse()
    assert client is not None, "enable Langfuse first (langfuse_on fixture)"
    trace_ids = []
    for index in range(count):
        trace_id = client.create_trace_id()
        with propagate_attributes(tags=tags or [], trace_name="agent_run", user_id="u-1"):
            span = client.start_observation(
                name="LangGraph",  # as LangChain names the root; the trace's name differs
                trace_context={"trace_id": trace_id},
                input={
                    "messages": [{"role": "user", "content": f"{prefix} {index}: show my items"}]
                },
                output={
                    "messages": [
                        {"role": "user", "content": f"{prefix} {index}: show my items"},
                        {"role": "assistant", "content": f"You have {index} items."},
                    ]
                },
            )
            span.end()
        trace_ids.append(trace_id)
    client.flush()
    fake.wait_for(lambda: len([t for t in trace_ids if fake.trace(t)]) == count, 15)
    return trace_ids


async def create_run(
    user_id: uuid.UUID,
    *,
    trace_id: str | None = None,
    message: str = "show my items",
    response: str = "You have 2 items: a and b.",
    status: str = RunStatus.success,
    created_at: datetime | None = None,
) -> AgentRun:
    """Insert a finished agent run."""
    run = AgentRun(
        user_id=user_id,
        thread_id=uuid.uuid4(),
        trace_id=trace_id,
        input=message,
        response=response,
        status=status,
        model="offline",
        tool_calls=[
            {"id": "c1", "name": "lookup_user_items", "args": {}, "output": "a, b", "ok": True}
        ],
    )
    if created_at is not None:
        run.created_at = created_at
    async with SessionMaker() as session:
        session.add(run)
        await session.commit()
        await session.refresh(run)
    return run


def metric_of(body: dict[str, Any]) -> str:
    """The metric a judge request is about (the prompt starts with `Criterion: <name>`)."""
    match = re.search(r"Criterion: ([a-z_]+)", json.dumps(body.get("messages", [])))
    assert match, "judge request without a criterion header"
    return match.group(1)


def trace_of(body: dict[str, Any]) -> str:
    """The user text of the graded trace (to tell traces apart in a responder)."""
    match = re.search(r"<user_input>\\n(.*?)\\n</user_input>", json.dumps(body.get("messages", [])))
    return match.group(1) if match else ""


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)
