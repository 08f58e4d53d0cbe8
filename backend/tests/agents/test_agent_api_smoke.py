"""Agent API happy path on the real PostgreSQL checkpointer."""

from tests.utils import API, create_item, create_user_and_login


async def test_show_my_items_runs_tools_and_answers(client) -> None:
    headers, user = await create_user_and_login(client)
    await create_item(user.id, title="Blue lamp")
    await create_item(user.id, title="Red chair")
    response = await client.post(
        f"{API}/agent/run", json={"message": "show my items"}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert "lookup_user_items" in body["plan"]
    assert [call["name"] for call in body["tool_calls"]] == ["lookup_user_items"]
    assert "Blue lamp" in body["response"] and "Red chair" in body["response"]
    assert body["total_tokens"] > 0
