"""The one assistant the Agent Protocol serves: the planner/executor graph (`graph_id` "agent")."""

import uuid
from datetime import UTC, datetime
from typing import Any

from app.agents.service import AgentService
from app.services.protocol.schemas import AssistantPublic, AssistantSchemas, AssistantSearch
from app.services.runs.errors import AssistantNotFoundError

GRAPH_ID = "agent"
# Stable across restarts and replicas, so clients can keep it.
ASSISTANT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"agent-protocol:assistant:{GRAPH_ID}"))
CREATED_AT = datetime(2026, 12, 1, tzinfo=UTC)
INPUT_SCHEMA: dict[str, Any] = {
    "title": "AgentInput",
    "type": "object",
    "properties": {
        "messages": {
            "type": "array",
            "description": "User messages (LangChain message dicts, type 'human' or role "
            "'user'; content a string or text content blocks).",
            "items": {"type": "object"},
        }
    },
}


def graph_metadata() -> dict[str, str]:
    """What the reference server puts in a thread's metadata, so clients can find it."""
    return {"graph_id": GRAPH_ID, "assistant_id": ASSISTANT_ID}


def assistant() -> AssistantPublic:
    """The assistant record."""
    return AssistantPublic(
        assistant_id=ASSISTANT_ID,
        graph_id=GRAPH_ID,
        name=GRAPH_ID,
        description="Plans, then calls tools until it can answer (asks before side effects).",
        created_at=CREATED_AT,
        updated_at=CREATED_AT,
    )


def resolve(assistant_id: str) -> AssistantPublic:
    """The assistant for an id or the graph id; AssistantNotFoundError otherwise."""
    if assistant_id not in (ASSISTANT_ID, GRAPH_ID):
        raise AssistantNotFoundError()
    return assistant()


def search(body: AssistantSearch) -> list[AssistantPublic]:
    """The assistant when it matches the filters."""
    found = assistant()
    matches = (
        (body.graph_id in (None, GRAPH_ID))
        and (body.name is None or body.name.lower() in found.name.lower())
        and all(found.metadata.get(key) == value for key, value in (body.metadata or {}).items())
        and body.offset == 0
    )
    return [found] if matches else []


def schemas(agent: AgentService) -> AssistantSchemas:
    """The graph's input, state and context as JSON Schemas."""
    state = agent.graph.get_output_jsonschema()
    return AssistantSchemas(
        graph_id=GRAPH_ID,
        input_schema=INPUT_SCHEMA,
        output_schema=state,
        state_schema=state,
        config_schema={"title": "Configurable", "type": "object", "properties": {}},
        context_schema={
            "title": "Context",
            "type": "object",
            "description": "None: the model, tools and budgets come from the server's settings.",
            "properties": {},
        },
    )
