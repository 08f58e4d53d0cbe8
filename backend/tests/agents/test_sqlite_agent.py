"""The agent on whichever back end the run uses (the test command runs this file on SQLite too)."""

from app.core.config import settings
from app.crud import checkpoint as crud_checkpoint
from tests.utils import API, create_item, create_user_and_login


async def test_run_and_continue_thread_after_restart(client, fresh_app, fresh_client) -> None:
    headers, user = await create_user_and_login(client)
    await create_item(user.id, title="Walnut desk")
    first = await client.post(
        f"{API}/agent/run", json={"message": "show my items"}, headers=headers
    )
    assert first.status_code == 200, first.text
    assert "Walnut desk" in first.json()["response"]
    thread_id = first.json()["thread_id"]
    second = await fresh_client.post(
        f"{API}/agent/run",
        json={"message": "what did I ask before?", "thread_id": thread_id},
        headers=headers,
    )
    assert "show my items" in second.json()["response"]
    thread = (await fresh_client.get(f"{API}/agent/threads/{thread_id}", headers=headers)).json()
    assert len([m for m in thread["messages"] if m["role"] == "user"]) == 2
    # Two turns, after the empty root the first one started from (its branch point).
    saver = fresh_app.state.runs.agent.checkpointer
    assert await crud_checkpoint.count_checkpoints(saver, thread_id) == 3
    deleted = await fresh_client.delete(f"{API}/agent/threads/{thread_id}", headers=headers)
    assert deleted.status_code == 200
    assert type(saver).__name__ == (
        "AsyncPostgresSaver" if settings.is_postgres else "AsyncSqliteSaver"
    )
