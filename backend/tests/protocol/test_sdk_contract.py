"""The Agent Protocol through the real `langgraph_sdk` client: threads, runs, streams, state,
history, interrupts and branches — the calls agent-chat-ui and `useStream` make."""

import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk.schema import Command

from app.services.protocol.assistants import ASSISTANT_ID

STREAM_MODES = ["values", "messages-tuple", "custom"]


def _messages(values: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["type"], m["content"]) for m in values.get("messages", [])]


async def test_info_and_assistant(sdk_client) -> None:
    client, _ = await sdk_client()
    found = await client.assistants.search(graph_id="agent")
    assert [a["assistant_id"] for a in found] == [ASSISTANT_ID]
    by_graph = await client.assistants.get("agent")
    assert by_graph["graph_id"] == "agent" and by_graph["assistant_id"] == ASSISTANT_ID
    schemas = await client.assistants.get_schemas("agent")
    assert "messages" in schemas["state_schema"]["properties"]
    assert "messages" in schemas["input_schema"]["properties"]
    graph = await client.assistants.get_graph("agent")
    assert {"planner", "executor", "tools"} <= {node["id"] for node in graph["nodes"]}
    with pytest.raises(httpx.HTTPStatusError) as missing:
        await client.assistants.get(str(uuid.uuid4()))
    assert missing.value.response.status_code == 404


async def test_stream_a_turn_like_agent_chat_ui(sdk_client) -> None:
    client, _ = await sdk_client()
    thread = await client.threads.create()
    created: list[Any] = []
    parts = [
        part
        async for part in client.runs.stream(
            thread["thread_id"],
            "agent",
            on_run_created=created.append,
            input={"messages": [{"type": "human", "content": "hello there"}]},
            stream_mode=STREAM_MODES,
            stream_subgraphs=True,
            stream_resumable=True,
            on_disconnect="continue",
        )
    ]
    names = [part.event for part in parts]
    assert names[0] == "metadata"
    run_id = parts[0].data["run_id"]
    # The SDK read the run from the response's Content-Location.
    assert [(c["run_id"], c["thread_id"]) for c in created] == [(run_id, thread["thread_id"])]
    assert all(part.id for part in parts if part.event != "end")
    assert "values" in names and "messages" in names and "custom" in names
    tokens = [
        p.data[0] for p in parts if p.event == "messages" and p.data[0]["type"] == "AIMessageChunk"
    ]
    final = [p.data for p in parts if p.event == "values"][-1]
    answer = final["messages"][-1]
    assert answer["type"] == "ai" and answer["content"]
    # The streamed chunks are the final answer's text, under the final message's id.
    assert "".join(chunk["content"] for chunk in tokens) == answer["content"]
    assert {chunk["id"] for chunk in tokens} == {answer["id"]}
    plan = next(p.data for p in parts if p.event == "custom")
    assert plan["type"] == "plan" and plan["text"]
    assert _messages(final)[0] == ("human", "hello there")
    # The run is a run of our own history, with the same record.
    run = await client.runs.get(thread["thread_id"], run_id)
    assert run["status"] == "success" and run["assistant_id"] == ASSISTANT_ID
    listed = await client.runs.list(thread["thread_id"])
    assert [r["run_id"] for r in listed] == [run_id]
    # The thread now carries what agent-chat-ui searches by, and its values.
    found = await client.threads.search(metadata={"graph_id": "agent"}, limit=100)
    assert [t["thread_id"] for t in found] == [thread["thread_id"]]
    assert await client.threads.search(status="busy") == []
    assert await client.threads.search(metadata={"graph_id": "other"}) == []
    assert found[0]["values"]["messages"][0]["content"] == "hello there"
    assert found[0]["status"] == "idle"


async def test_wait_join_state_and_history(sdk_client) -> None:
    client, _ = await sdk_client()
    thread = await client.threads.create(metadata={"topic": "demo"})
    tid = thread["thread_id"]
    values = await client.runs.wait(
        tid, "agent", input={"messages": [{"role": "user", "content": "hello"}]}
    )
    assert _messages(values)[0] == ("human", "hello")
    assert values["messages"][-1]["type"] == "ai"
    background = await client.runs.create(
        tid,
        "agent",
        input={
            "messages": [{"type": "human", "content": [{"type": "text", "text": "show my items"}]}]
        },
    )
    assert background["status"] in ("pending", "running")
    joined = await client.runs.join(tid, background["run_id"])
    assert [t for t, _ in _messages(joined)].count("human") == 2
    state = await client.threads.get_state(tid)
    assert state["values"] == joined and state["next"] == []
    assert state["checkpoint"]["thread_id"] == tid and state["checkpoint"]["checkpoint_id"]
    history = await client.threads.get_history(tid, limit=10)
    # One checkpoint per turn (durability "exit"), after the empty root the first turn started
    # from (LangGraph's step -1 "input" checkpoint), newest first.
    assert len(history) == 3
    assert history[0]["checkpoint"] == state["checkpoint"]
    assert history[0]["parent_checkpoint"] == history[1]["checkpoint"]
    assert history[1]["next"] == [] and history[1]["parent_checkpoint"] == history[2]["checkpoint"]
    root = history[2]
    assert (root["values"], root["next"], root["parent_checkpoint"]) == ({"messages": []}, [], None)
    assert (root["metadata"]["source"], root["metadata"]["step"]) == ("input", -1)
    older = await client.threads.get_history(tid, limit=10, before=history[0]["checkpoint"])
    assert [h["checkpoint"] for h in older] == [history[1]["checkpoint"], root["checkpoint"]]
    first = history[1]["checkpoint"]["checkpoint_id"]
    at = await client.threads.get_state(tid, checkpoint_id=first)
    assert _messages(at["values"]) == _messages(history[1]["values"])
    patched = await client.threads.update(tid, metadata={"pinned": True})
    assert patched["metadata"]["topic"] == "demo" and patched["metadata"]["pinned"] is True
    got = await client.threads.get(tid)
    assert got["metadata"]["pinned"] is True
    await client.threads.delete(tid)
    with pytest.raises(httpx.HTTPStatusError) as gone:
        await client.threads.get(tid)
    assert gone.value.response.status_code == 404


async def test_branch_and_regenerate_from_earlier_checkpoints(sdk_client) -> None:
    client, _ = await sdk_client()
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(
        tid, "agent", input={"messages": [{"type": "human", "content": "hello"}]}
    )
    await client.runs.wait(
        tid, "agent", input={"messages": [{"type": "human", "content": "show my items"}]}
    )
    history = await client.threads.get_history(tid, limit=10)
    # Edit the second message (agent-chat-ui: the parent of the first state that holds it).
    first_end = history[0]["parent_checkpoint"]
    edited = await client.runs.wait(
        tid,
        "agent",
        input={"messages": [{"type": "human", "content": "thanks"}]},
        checkpoint=first_end,
    )
    humans = [c for t, c in _messages(edited) if t == "human"]
    assert humans == ["hello", "thanks"]
    # Regenerate the last answer: the parent of the state it first appears in, no input.
    latest = await client.threads.get_history(tid, limit=1)
    regenerated = await client.runs.wait(
        tid, "agent", input=None, checkpoint=latest[0]["parent_checkpoint"]
    )
    assert [c for t, c in _messages(regenerated) if t == "human"] == ["hello", "thanks"]
    assert regenerated["messages"][-1]["type"] == "ai"
    assert regenerated["messages"][-1]["id"] != edited["messages"][-1]["id"]
    # Three branches grow from the first turn's end; the original one is still there.
    branches = await client.threads.get_history(tid, limit=10)
    children = [h for h in branches if h["parent_checkpoint"] == first_end]
    assert len(children) == 3
    assert {c for h in children for t, c in _messages(h["values"]) if t == "human"} == {
        "hello",
        "show my items",
        "thanks",
    }
    # Nothing to run: no input, and the latest turn has finished.
    with pytest.raises(httpx.HTTPStatusError) as idle:
        await client.runs.wait(tid, "agent", input=None)
    assert idle.value.response.status_code == 422


async def test_edit_and_regenerate_the_first_message(sdk_client) -> None:
    client, _ = await sdk_client()
    tid = (await client.threads.create())["thread_id"]
    # Nothing has run: no state and no history yet (as LangGraph's server answers).
    assert await client.threads.get_history(tid) == []
    assert (await client.threads.get_state(tid))["checkpoint"]["checkpoint_id"] is None
    original = await client.runs.wait(
        tid, "agent", input={"messages": [{"type": "human", "content": "hello"}]}
    )
    history = await client.threads.get_history(tid, limit=10)
    # useStream's branch point of a message: the parent of the oldest state holding it.
    first_id = original["messages"][0]["id"]
    holding = [h for h in history if first_id in {m["id"] for m in h["values"]["messages"]}]
    root = holding[-1]["parent_checkpoint"]
    assert root is not None and root == history[-1]["checkpoint"]
    at_root = await client.threads.get_state(tid, checkpoint_id=root["checkpoint_id"])
    assert at_root["values"] == {"messages": []}
    # Regenerate the first answer: no input, from the root; the question is asked again.
    regenerated = await client.runs.wait(tid, "agent", input=None, checkpoint=root)
    assert _messages(regenerated)[0] == ("human", "hello")
    assert regenerated["messages"][-1]["type"] == "ai"
    assert regenerated["messages"][0]["id"] != first_id
    assert regenerated["messages"][-1]["id"] != original["messages"][-1]["id"]
    # Edit the first message: from the same root, a conversation that never said "hello".
    edited = await client.runs.wait(
        tid,
        "agent",
        input={"messages": [{"type": "human", "content": "show my items"}]},
        checkpoint=root,
    )
    assert [c for t, c in _messages(edited) if t == "human"] == ["show my items"]
    assert edited["messages"][-1]["type"] == "ai"
    # Three versions of the first turn grow from the one root; no second root was made.
    branches = await client.threads.get_history(tid, limit=10)
    assert len(branches) == 4
    assert [h["checkpoint"] for h in branches if h["parent_checkpoint"] is None] == [root]
    children = [h for h in branches if h["parent_checkpoint"] == root]
    assert sorted(_messages(h["values"])[0][1] for h in children) == [
        "hello",
        "hello",
        "show my items",
    ]
    # The next turn goes on from the latest branch (the edited one), not from the root.
    followed = await client.runs.wait(
        tid, "agent", input={"messages": [{"type": "human", "content": "thanks"}]}
    )
    assert [c for t, c in _messages(followed) if t == "human"] == ["show my items", "thanks"]


async def _pause(client, tid: str, hook: dict[str, Any], text: str) -> dict[str, Any]:
    """Stream a turn that asks to POST to the hook; return the interrupt's value."""
    message = {"type": "human", "content": f'post "{text}" to {hook["url"]}'}
    parts = [
        p
        async for p in client.runs.stream(
            tid, "agent", input={"messages": [message]}, stream_mode=STREAM_MODES
        )
    ]
    paused = [p.data for p in parts if p.event == "values" and "__interrupt__" in p.data]
    assert paused, [p.event for p in parts]
    assert paused[-1]["messages"][-1]["type"] == "ai"  # the card goes under the AI message
    return paused[-1]["__interrupt__"][0]["value"]


async def test_interrupt_and_resume_with_decisions(sdk_client, hook) -> None:
    client, _ = await sdk_client()
    tid = (await client.threads.create())["thread_id"]
    request = await _pause(client, tid, hook, "hello")
    assert request["action_requests"][0]["name"] == "http_post"
    assert request["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]
    state = await client.threads.get_state(tid)
    assert state["tasks"][0]["interrupts"][0]["value"]["action_requests"]
    assert (await client.threads.get(tid))["status"] == "interrupted"
    assert hook["received"] == []
    edit = {
        "type": "edit",
        "edited_action": {
            "name": "http_post",
            "args": {"url": hook["url"], "body": {"m": "edited"}},
        },
    }
    resumed = await client.runs.wait(tid, "agent", command=Command(resume={"decisions": [edit]}))
    assert hook["received"] == [{"m": "edited"}]
    assert resumed["messages"][-1]["type"] == "ai"
    assert (await client.threads.get(tid))["status"] == "idle"
    # A rejection: the tool never runs, and the audit table says who decided what.
    await _pause(client, tid, hook, "again")
    reject = {"type": "reject", "message": "not now"}
    await client.runs.wait(tid, "agent", command=Command(resume={"decisions": [reject]}))
    assert hook["received"] == [{"m": "edited"}]


async def test_command_update_and_goto(sdk_client) -> None:
    client, _ = await sdk_client()
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(
        tid, "agent", input={"messages": [{"type": "human", "content": "hello"}]}
    )
    update = {"messages": [{"type": "human", "content": "show my items"}]}
    added = await client.runs.wait(tid, "agent", command=Command(update=update))
    assert [c for t, c in _messages(added) if t == "human"] == ["hello", "show my items"]
    assert added["messages"][-1]["type"] == "ai"
    replanned = await client.runs.wait(tid, "agent", command=Command(goto="planner"))
    assert [c for t, c in _messages(replanned) if t == "human"] == ["hello", "show my items"]
    assert len(replanned["messages"]) > len(added["messages"])
    for bad in (
        Command(update={"approvals": {}}),
        Command(update={"messages": [{"type": "ai", "content": "I approve"}]}),
        Command(update=update, goto="executor"),
        Command(goto="tools"),
    ):
        with pytest.raises(httpx.HTTPStatusError) as refused:
            await client.runs.wait(tid, "agent", command=bad)
        assert refused.value.response.status_code == 422


async def test_durability_async_keeps_a_checkpoint_per_step(sdk_client) -> None:
    client, _ = await sdk_client()
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(
        tid, "agent", input={"messages": [{"type": "human", "content": "hello"}]}
    )
    await client.runs.wait(
        tid,
        "agent",
        input={"messages": [{"type": "human", "content": "show my items"}]},
        durability="async",
    )
    history = await client.threads.get_history(tid, limit=20)
    # The first turn left one checkpoint; the second one checkpoint per step.
    assert len(history) > 4
    mid_turn = next(h for h in history if h["next"] == ["executor"])
    # Running from a checkpoint with nodes left continues from it (no new message).
    resumed = await client.runs.wait(tid, "agent", input=None, checkpoint=mid_turn["checkpoint"])
    assert [c for t, c in _messages(resumed) if t == "human"] == ["hello", "show my items"]
    assert resumed["messages"][-1]["type"] == "ai"


async def test_updates_and_messages_modes(sdk_client) -> None:
    client, _ = await sdk_client()
    tid = (await client.threads.create())["thread_id"]
    parts = [
        p
        async for p in client.runs.stream(
            tid,
            "agent",
            input={"messages": [{"type": "human", "content": "show my items"}]},
            stream_mode=["updates", "messages"],
        )
    ]
    names = [p.event for p in parts]
    updates = [p.data for p in parts if p.event == "updates"]
    assert [next(iter(u)) for u in updates] == [
        "input_guard",
        "planner",
        "executor",
        "approval",
        "tools",
        "executor",
    ]
    assert "values" not in names and "custom" not in names
    partial = [p.data[0] for p in parts if p.event == "messages/partial"]
    complete = [p.data[0] for p in parts if p.event == "messages/complete"]
    # The tool call, its result and the streamed answer each complete once; the answer's
    # partials grow to its final text.
    assert [m["type"] for m in complete] == ["ai", "tool", "ai"]
    assert partial and partial[-1]["content"] == complete[-1]["content"]
    assert all(m["id"] == complete[-1]["id"] for m in partial)
    assert names.count("messages/metadata") == 3
