"""`GET /info` and the one assistant (the agent graph)."""

from typing import Any

from fastapi import APIRouter

from app.api.deps import RuntimeDep
from app.api.errors import authenticated_responses, error_responses
from app.api.routes.agent_protocol.deps import ProtocolUser
from app.core.config import settings
from app.services.protocol import assistants
from app.services.protocol.schemas import AssistantPublic, AssistantSchemas, AssistantSearch

router = APIRouter()


@router.get("/info")
async def info() -> dict[str, Any]:
    """What this server is and which optional parts of the protocol it serves."""
    return {
        "version": settings.PROJECT_NAME,
        "flags": {"assistants": True, "crons": False, "langsmith": False, "store": False},
    }


@router.post(
    "/assistants/search",
    response_model=list[AssistantPublic],
    responses=authenticated_responses(),
)
async def search_assistants(body: AssistantSearch, _user: ProtocolUser) -> Any:
    """The assistants matching the filters (there is one: the agent graph)."""
    return assistants.search(body)


@router.get(
    "/assistants/{assistant_id}",
    response_model=AssistantPublic,
    responses={**authenticated_responses(), **error_responses(404)},
)
async def read_assistant(assistant_id: str, _user: ProtocolUser) -> Any:
    """The assistant, by its id or by the graph id `agent`."""
    return assistants.resolve(assistant_id)


@router.get(
    "/assistants/{assistant_id}/schemas",
    response_model=AssistantSchemas,
    responses={**authenticated_responses(), **error_responses(404)},
)
async def assistant_schemas(assistant_id: str, _user: ProtocolUser, runtime: RuntimeDep) -> Any:
    """The graph's input, state and context schemas."""
    assistants.resolve(assistant_id)
    return assistants.schemas(runtime.agent)


@router.get(
    "/assistants/{assistant_id}/graph",
    responses={**authenticated_responses(), **error_responses(404)},
)
async def assistant_graph(
    assistant_id: str, _user: ProtocolUser, runtime: RuntimeDep
) -> dict[str, Any]:
    """The graph's nodes and edges (for drawing it)."""
    assistants.resolve(assistant_id)
    drawable: dict[str, Any] = runtime.agent.graph.get_graph().to_json()
    return drawable
