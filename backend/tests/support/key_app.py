"""A test-only app with one route behind `CurrentUserOrApiKey` and the Agent Protocol limit."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import Depends, FastAPI

from app.api.deps import CurrentUserOrApiKey
from app.api.errors import add_error_handlers
from app.api.rate_limit import agent_protocol_rate_limit

WHOAMI = "/whoami"


def build_key_app() -> FastAPI:
    """An app whose `GET /whoami` answers the caller's id and email."""
    app = FastAPI()
    add_error_handlers(app)

    # The limiter is listed in `dependencies=`, which FastAPI runs before the parameters: it
    # depends on CurrentUserOrApiKey itself, so the user is resolved (once) either way.
    @app.get(WHOAMI, dependencies=[Depends(agent_protocol_rate_limit)])
    async def whoami(user: CurrentUserOrApiKey) -> dict[str, Any]:
        return {"id": str(user.id), "email": user.email}

    return app


async def key_client() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the test-only app (the main app's lifespan already opened the DB)."""
    transport = httpx.ASGITransport(app=build_key_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://keys") as http:
        yield http
