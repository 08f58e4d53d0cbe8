"""The Agent Protocol subset LangGraph SDK clients use (agent-chat-ui, `useStream`), mounted at
AGENT_PROTOCOL_PATH and served from our own run records, queue and event log."""

from fastapi import APIRouter

from app.api.routes.agent_protocol import assistants, runs, stateless, threads

router = APIRouter(tags=["agent-protocol"])
router.include_router(assistants.router)
router.include_router(threads.router)
router.include_router(runs.router)
router.include_router(stateless.router)
