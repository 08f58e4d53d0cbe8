"""`POST /threads/{id}/history` pages with `before` in each client's shape: a checkpoint id
(Python SDK), a checkpoint (Python SDK), or a config `{configurable: {...}}` (JS SDK)."""

from typing import Any


async def test_history_before_accepts_a_checkpoint_an_id_and_a_config(sdk_client) -> None:
    client, _ = await sdk_client()
    tid = (await client.threads.create())["thread_id"]
    for text in ("hello", "show my items"):
        await client.runs.wait(
            tid, "agent", input={"messages": [{"type": "human", "content": text}]}
        )
    history = await client.threads.get_history(tid, limit=10)
    assert len(history) == 3  # two turns and the root the first one started from
    newest = history[0]["checkpoint"]
    expected = [history[1]["checkpoint"], history[2]["checkpoint"]]
    shapes: list[Any] = [
        newest,
        newest["checkpoint_id"],
        {"configurable": {"checkpoint_id": newest["checkpoint_id"]}},
        {"configurable": {"thread_id": tid, "checkpoint_ns": "", **newest}},
    ]
    for before in shapes:
        older = await client.http.post(
            f"/threads/{tid}/history", json={"limit": 10, "before": before}
        )
        assert [h["checkpoint"] for h in older] == expected, before
