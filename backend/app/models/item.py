"""Item models: table, API input and output shapes."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import field_validator
from sqlmodel import Field, Relationship, SQLModel

from app.models.common import created_at_field, reject_null
from app.models.storable import StorableText

if TYPE_CHECKING:
    from app.models.user import User


class ItemBase(SQLModel):
    """Fields shared by every item shape."""

    title: StorableText = Field(min_length=1, max_length=255)
    description: StorableText | None = Field(default=None, max_length=255)


class ItemCreate(ItemBase):
    """What a user sends to create an item."""


class ItemUpdate(ItemBase):
    """What a user sends to change an item (all optional)."""

    title: StorableText | None = Field(default=None, min_length=1, max_length=255)  # type: ignore[assignment]

    _title_not_null = field_validator("title")(reject_null)


class Item(ItemBase, table=True):
    """An item row, owned by a user."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(
        foreign_key="user.id", nullable=False, ondelete="CASCADE", index=True
    )
    created_at: datetime = created_at_field()
    owner: "User" = Relationship(back_populates="items")


class ItemPublic(ItemBase):
    """An item as the API returns it."""

    id: uuid.UUID
    owner_id: uuid.UUID
    created_at: datetime | None = None


class ItemsPublic(SQLModel):
    """A page of items."""

    data: list[ItemPublic]
    count: int
