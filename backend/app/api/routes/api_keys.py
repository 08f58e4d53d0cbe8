"""Personal API keys: create (the key is shown once), list, revoke.

Managing keys takes a signed-in session (bearer JWT): a key can't mint or revoke keys, so a
leaked key can't lock its owner out or outlive its revocation.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from app.api.deps import CurrentUser, SessionDep, SkipQuery
from app.api.errors import authenticated_responses, error_responses
from app.models import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, ApiKeysPublic
from app.services.auth import api_keys

router = APIRouter(prefix="/api-keys", tags=["api-keys"], responses=authenticated_responses())
NOT_FOUND = "API key not found"


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
)
async def create_api_key(
    session: SessionDep, current_user: CurrentUser, key_in: ApiKeyCreate
) -> Any:
    """Create an API key; the answer is the only time the key itself is shown."""
    return await api_keys.create_key(session, current_user.id, key_in)


@router.get("", response_model=ApiKeysPublic)
async def read_api_keys(
    session: SessionDep,
    current_user: CurrentUser,
    skip: SkipQuery = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """List your API keys (revoked and expired ones too), newest first, without the keys."""
    keys, count = await api_keys.list_keys(session, current_user.id, skip=skip, limit=limit)
    return ApiKeysPublic(data=keys, count=count)


@router.delete("/{id}", response_model=ApiKeyPublic)
async def revoke_api_key(session: SessionDep, current_user: CurrentUser, id: uuid.UUID) -> Any:
    """Revoke an API key: it stops working at once (revoking it again changes nothing)."""
    key = await api_keys.revoke_key(session, current_user.id, id)
    if key is None:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    return key
