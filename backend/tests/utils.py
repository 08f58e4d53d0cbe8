"""Helpers for tests: random data, users and tokens."""

import random
import string
import uuid
from typing import Any

import httpx

from app.core.config import settings

API = settings.API_V1_STR


def random_lower_string(length: int = 32) -> str:
    """Random lowercase letters."""
    return "".join(random.choices(string.ascii_lowercase, k=length))


def random_email() -> str:
    """A random, valid email."""
    return f"{random_lower_string(12)}@example.com"


async def login_headers(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    """Log in and return bearer headers."""
    response = await client.post(
        f"{API}/login/access-token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def create_user(
    *, email: str | None = None, password: str | None = None, is_superuser: bool = False
) -> tuple[Any, str]:
    """Insert a user directly; return (user, password)."""
    from app.core.db import SessionMaker
    from app.crud import user as crud_user
    from app.models import UserCreate

    password = password or random_lower_string(16)
    async with SessionMaker() as session:
        user = await crud_user.create_user(
            session=session,
            user_create=UserCreate(
                email=email or random_email(), password=password, is_superuser=is_superuser
            ),
        )
    return user, password


async def create_user_and_login(
    client: httpx.AsyncClient, **kwargs: Any
) -> tuple[dict[str, str], Any]:
    """Create a user and return (bearer headers, user)."""
    user, password = await create_user(**kwargs)
    return await login_headers(client, user.email, password), user


async def create_item(owner_id: uuid.UUID, title: str | None = None) -> Any:
    """Insert an item owned by `owner_id`."""
    from app.core.db import SessionMaker
    from app.crud import item as crud_item
    from app.models import ItemCreate

    async with SessionMaker() as session:
        return await crud_item.create_item(
            session=session,
            item_in=ItemCreate(title=title or random_lower_string(10), description="test item"),
            owner_id=owner_id,
        )
