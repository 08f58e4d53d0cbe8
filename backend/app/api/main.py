"""The API router: every route module mounted under API_V1_STR."""

from fastapi import APIRouter

from app.api.errors import common_responses
from app.api.routes import (
    agent,
    api_keys,
    approvals,
    evaluations,
    feedback,
    items,
    login,
    users,
    utils,
)

api_router = APIRouter(responses=common_responses())
api_router.include_router(login.router)
api_router.include_router(users.router)
api_router.include_router(utils.router)
api_router.include_router(items.router)
api_router.include_router(api_keys.router)
api_router.include_router(agent.router)
api_router.include_router(approvals.router)
api_router.include_router(feedback.router)
api_router.include_router(evaluations.router)
