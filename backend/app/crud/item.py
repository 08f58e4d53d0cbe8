"""Item data access, always scoped by owner unless the caller is a superuser."""

import uuid

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Item, ItemCreate, ItemUpdate, User


async def create_item(*, session: AsyncSession, item_in: ItemCreate, owner_id: uuid.UUID) -> Item:
    """Insert an item owned by `owner_id`."""
    db_item = Item.model_validate(item_in, update={"owner_id": owner_id})
    session.add(db_item)
    await session.commit()
    await session.refresh(db_item)
    return db_item


async def get_item_for(*, session: AsyncSession, user: User, item_id: uuid.UUID) -> Item | None:
    """The item when `user` may see it (owner or superuser), else None."""
    item = await session.get(Item, item_id)
    if item is None or (not user.is_superuser and item.owner_id != user.id):
        return None
    return item


async def list_items_for(
    *,
    session: AsyncSession,
    user: User,
    skip: int = 0,
    limit: int = 100,
    owner_id: uuid.UUID | None = None,
) -> tuple[list[Item], int]:
    """A page of the items `user` may see (newest first) and their count."""
    statement = select(Item)
    count_statement = select(func.count()).select_from(Item)
    if not user.is_superuser:
        owner_id = user.id
    if owner_id is not None:
        statement = statement.where(Item.owner_id == owner_id)
        count_statement = count_statement.where(Item.owner_id == owner_id)
    count = (await session.exec(count_statement)).one()
    statement = statement.order_by(col(Item.created_at).desc()).offset(skip).limit(limit)
    return list((await session.exec(statement)).all()), count


async def update_item(*, session: AsyncSession, item: Item, item_in: ItemUpdate) -> Item:
    """Apply a partial update."""
    item.sqlmodel_update(item_in.model_dump(exclude_unset=True))
    session.add(item)
    await session.commit()
    await session.refresh(item)
    return item


async def delete_item(*, session: AsyncSession, item: Item) -> None:
    """Delete an item."""
    await session.delete(item)
    await session.commit()
