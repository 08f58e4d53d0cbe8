"""Items CRUD and ownership: a normal user reaches only their own items (others' are 404)."""

import uuid

import httpx
import pytest

from tests.utils import API, create_item, create_user, create_user_and_login

ITEMS = f"{API}/items"


async def test_create_item(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    response = await client.post(
        f"{ITEMS}/", headers=headers, json={"title": "Foo", "description": "Fighters"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Foo"
    assert body["description"] == "Fighters"
    assert body["owner_id"] == str(user.id)
    assert uuid.UUID(body["id"])
    assert body["created_at"]


async def test_create_item_ignores_owner_in_body(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    other, _ = await create_user()
    response = await client.post(
        f"{ITEMS}/", headers=headers, json={"title": "Mine", "owner_id": str(other.id)}
    )
    assert response.status_code == 200
    assert response.json()["owner_id"] == str(user.id)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="no-title"),
        pytest.param({"title": ""}, id="empty-title"),
        pytest.param({"title": "t" * 256}, id="long-title"),
        pytest.param({"title": "ok", "description": "d" * 256}, id="long-description"),
        pytest.param({"title": None}, id="null-title"),
    ],
)
async def test_create_item_invalid_is_422(client: httpx.AsyncClient, payload: dict) -> None:
    headers, _ = await create_user_and_login(client)
    response = await client.post(f"{ITEMS}/", headers=headers, json=payload)
    assert response.status_code == 422
    assert response.json()["detail"]


async def test_create_item_requires_login(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{ITEMS}/", json={"title": "Foo"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated", "code": "not_authenticated"}


async def test_read_item(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    item = await create_item(user.id, title="mine")
    response = await client.get(f"{ITEMS}/{item.id}", headers=headers)
    assert response.status_code == 200
    assert response.json()["title"] == "mine"
    assert response.json()["owner_id"] == str(user.id)


async def test_read_item_not_found(client: httpx.AsyncClient) -> None:
    headers, _ = await create_user_and_login(client)
    response = await client.get(f"{ITEMS}/{uuid.uuid4()}", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found", "code": "not_found"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_malformed_item_id_is_422(client: httpx.AsyncClient, method: str) -> None:
    headers, _ = await create_user_and_login(client)
    response = await client.request(
        method, f"{ITEMS}/not-a-uuid", headers=headers, json={"title": "x"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "id"]


async def test_another_users_item_is_404_for_read_update_delete(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await create_user()
    item = await create_item(owner.id, title="private")
    intruder_headers, _ = await create_user_and_login(client)

    read = await client.get(f"{ITEMS}/{item.id}", headers=intruder_headers)
    update = await client.put(
        f"{ITEMS}/{item.id}", headers=intruder_headers, json={"title": "hijacked"}
    )
    delete = await client.delete(f"{ITEMS}/{item.id}", headers=intruder_headers)
    for response in (read, update, delete):
        assert response.status_code == 404
        assert response.json() == {"detail": "Item not found", "code": "not_found"}
        assert "private" not in response.text
    # Indistinguishable from an item that doesn't exist at all.
    missing = await client.get(f"{ITEMS}/{uuid.uuid4()}", headers=intruder_headers)
    assert missing.json() == read.json()
    listed = await client.get(f"{ITEMS}/", headers=intruder_headers)
    assert listed.json() == {"data": [], "count": 0}

    # The item is untouched.
    from app.core.db import SessionMaker
    from app.models import Item

    async with SessionMaker() as session:
        stored = await session.get(Item, item.id)
        assert stored is not None and stored.title == "private"


async def test_superuser_sees_and_changes_all_items(
    client: httpx.AsyncClient, superuser_token_headers: dict[str, str]
) -> None:
    first, _ = await create_user()
    second, _ = await create_user()
    first_item = await create_item(first.id)
    second_item = await create_item(second.id)

    listed = await client.get(f"{ITEMS}/", headers=superuser_token_headers)
    assert listed.status_code == 200
    assert listed.json()["count"] == 2
    assert {i["id"] for i in listed.json()["data"]} == {str(first_item.id), str(second_item.id)}

    read = await client.get(f"{ITEMS}/{first_item.id}", headers=superuser_token_headers)
    assert read.status_code == 200
    update = await client.put(
        f"{ITEMS}/{second_item.id}", headers=superuser_token_headers, json={"title": "by admin"}
    )
    assert update.status_code == 200
    assert update.json()["title"] == "by admin"
    assert update.json()["owner_id"] == str(second.id)  # ownership unchanged
    delete = await client.delete(f"{ITEMS}/{first_item.id}", headers=superuser_token_headers)
    assert delete.status_code == 200


async def test_read_items_only_own_with_pagination(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    other, _ = await create_user()
    mine = [await create_item(user.id, title=f"mine-{n}") for n in range(5)]
    await create_item(other.id, title="not-mine")

    response = await client.get(f"{ITEMS}/", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert {i["id"] for i in body["data"]} == {str(i.id) for i in mine}
    assert all(i["owner_id"] == str(user.id) for i in body["data"])
    # Newest first.
    created = [i["created_at"] for i in body["data"]]
    assert created == sorted(created, reverse=True)

    page = await client.get(f"{ITEMS}/?skip=2&limit=2", headers=headers)
    assert page.json()["count"] == 5
    assert [i["id"] for i in page.json()["data"]] == [i["id"] for i in body["data"][2:4]]
    last = await client.get(f"{ITEMS}/?skip=4&limit=2", headers=headers)
    assert len(last.json()["data"]) == 1


@pytest.mark.parametrize(
    "query", ["skip=-1", "limit=0", "limit=1001", "limit=x", "skip=99999999999999999999"]
)
async def test_read_items_bad_pagination_is_422(client: httpx.AsyncClient, query: str) -> None:
    headers, _ = await create_user_and_login(client)
    response = await client.get(f"{ITEMS}/?{query}", headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"]


async def test_update_item(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    item = await create_item(user.id, title="before")
    response = await client.put(
        f"{ITEMS}/{item.id}", headers=headers, json={"title": "after", "description": "new"}
    )
    assert response.status_code == 200
    assert response.json()["title"] == "after"
    assert response.json()["description"] == "new"
    assert response.json()["id"] == str(item.id)


async def test_update_item_partial_keeps_other_fields(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    item = await create_item(user.id, title="keep")
    response = await client.put(f"{ITEMS}/{item.id}", headers=headers, json={"description": "d"})
    assert response.status_code == 200
    assert response.json()["title"] == "keep"
    assert response.json()["description"] == "d"


async def test_update_item_null_title_is_422(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    item = await create_item(user.id, title="keep")
    response = await client.put(f"{ITEMS}/{item.id}", headers=headers, json={"title": None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "title"]
    read = await client.get(f"{ITEMS}/{item.id}", headers=headers)
    assert read.json()["title"] == "keep"


async def test_update_item_not_found(client: httpx.AsyncClient) -> None:
    headers, _ = await create_user_and_login(client)
    response = await client.put(f"{ITEMS}/{uuid.uuid4()}", headers=headers, json={"title": "x"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found", "code": "not_found"}


async def test_delete_item(client: httpx.AsyncClient) -> None:
    headers, user = await create_user_and_login(client)
    item = await create_item(user.id)
    response = await client.delete(f"{ITEMS}/{item.id}", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"message": "Item deleted successfully"}
    again = await client.get(f"{ITEMS}/{item.id}", headers=headers)
    assert again.status_code == 404


async def test_delete_item_not_found(client: httpx.AsyncClient) -> None:
    headers, _ = await create_user_and_login(client)
    response = await client.delete(f"{ITEMS}/{uuid.uuid4()}", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found", "code": "not_found"}


async def test_text_the_database_cannot_store_is_4xx(client: httpx.AsyncClient) -> None:
    """A NUL character is valid JSON but no database text should hold it: 422 on the field."""
    headers, _ = await create_user_and_login(client)
    response = await client.post(f"{ITEMS}/", headers=headers, json={"title": "a\x00b"})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "title"] and error["type"] == "unstorable_value"
