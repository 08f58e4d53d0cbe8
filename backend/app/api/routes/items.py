"""Items CRUD; normal users reach only their own items."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from app.api.deps import CurrentUser, SessionDep, SkipQuery
from app.api.errors import authenticated_responses
from app.crud import item as crud_item
from app.models import ItemCreate, ItemPublic, ItemsPublic, ItemUpdate, Message

router = APIRouter(prefix="/items", tags=["items"], responses=authenticated_responses())
NOT_FOUND = "Item not found"


@router.get("/", response_model=ItemsPublic)
async def read_items(
    session: SessionDep,
    current_user: CurrentUser,
    skip: SkipQuery = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Retrieve items."""
    items, count = await crud_item.list_items_for(
        session=session, user=current_user, skip=skip, limit=limit
    )
    return ItemsPublic(data=[ItemPublic.model_validate(i) for i in items], count=count)


@router.get("/{id}", response_model=ItemPublic)
async def read_item(session: SessionDep, current_user: CurrentUser, id: uuid.UUID) -> Any:
    """Get item by ID."""
    item = await crud_item.get_item_for(session=session, user=current_user, item_id=id)
    if not item:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    return item


@router.post("/", response_model=ItemPublic)
async def create_item(
    *, session: SessionDep, current_user: CurrentUser, item_in: ItemCreate
) -> Any:
    """Create new item."""
    return await crud_item.create_item(session=session, item_in=item_in, owner_id=current_user.id)


@router.put("/{id}", response_model=ItemPublic)
async def update_item(
    *, session: SessionDep, current_user: CurrentUser, id: uuid.UUID, item_in: ItemUpdate
) -> Any:
    """Update an item."""
    item = await crud_item.get_item_for(session=session, user=current_user, item_id=id)
    if not item:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    return await crud_item.update_item(session=session, item=item, item_in=item_in)


@router.delete("/{id}")
async def delete_item(session: SessionDep, current_user: CurrentUser, id: uuid.UUID) -> Message:
    """Delete an item."""
    item = await crud_item.get_item_for(session=session, user=current_user, item_id=id)
    if not item:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    await crud_item.delete_item(session=session, item=item)
    return Message(message="Item deleted successfully")
