"""Graph unit tests with the offline model (in-memory checkpointer, real tools on PostgreSQL)."""

import json
import uuid

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError

from app.agents.graph import (
    TOOL_BUDGET_EXCEEDED,
    AgentContext,
    answered_tool_calls,
    build_graph,
    needs_more_execution,
    needs_tools,
)
from app.agents.llm import ChatModels
from app.agents.offline_model import HELP_TEXT, OfflineChatModel
from app.agents.tools import ToolContext, build_tools
from app.core.config import settings
from app.core.db import SessionMaker
from tests.utils import create_item, create_user


def _context(user, max_tool_calls: int = 8, extra_tools=()) -> AgentContext:
    tools = build_tools(ToolContext(user.id, user.is_superuser, SessionMaker, settings))
    return AgentContext(
        models=ChatModels.of(OfflineChatModel()),
        tools=[*tools, *extra_tools],
        max_tool_calls=max_tool_calls,
    )


def _config(limit: int = 25) -> dict:
    return {"configurable": {"thread_id": str(uuid.uuid4())}, "recursion_limit": limit}


async def test_plan_tool_answer_sequence() -> None:
    user, _ = await create_user()
    await create_item(user.id, title="Teapot")
    graph = build_graph(InMemorySaver())
    state = await graph.ainvoke(
        {"messages": [HumanMessage("show my items")]}, _config(), context=_context(user)
    )
    kinds = [type(m).__name__ for m in state["messages"]]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    assert state["plan_steps"][0]["tool"] == "lookup_user_items"
    assert "lookup_user_items" in state["plan"]
    tool_result = json.loads(state["messages"][2].content)
    assert tool_result["count"] == 1 and tool_result["items"][0]["title"] == "Teapot"
    assert "Teapot" in state["messages"][-1].content
    assert state["tool_calls_used"] == 1 and state["stop_reason"] is None


async def test_tool_budget_stops_the_run() -> None:
    user, _ = await create_user(is_superuser=True)
    graph = build_graph(InMemorySaver())
    state = await graph.ainvoke(
        {"messages": [HumanMessage("who are a@example.com and b@example.com?")]},
        _config(),
        context=_context(user, max_tool_calls=1),
    )
    assert state["stop_reason"] == TOOL_BUDGET_EXCEEDED
    results = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert len(results) == 2
    assert "budget of 1 reached" in results[1].content and results[1].status == "error"


async def test_failing_tool_becomes_its_result() -> None:
    user, _ = await create_user()

    async def explode(item_id: str) -> str:
        raise RuntimeError("database on fire")

    boom = StructuredTool.from_function(
        coroutine=explode, name="lookup_item_by_id", description="x"
    )
    context = _context(user)
    context = AgentContext(
        context.models, [t for t in context.tools if t.name != "lookup_item_by_id"] + [boom], 8
    )
    graph = build_graph(InMemorySaver())
    state = await graph.ainvoke(
        {"messages": [HumanMessage(f"item {uuid.uuid4()}")]}, _config(), context=context
    )
    tool_message = next(m for m in state["messages"] if isinstance(m, ToolMessage))
    assert tool_message.status == "error" and "database on fire" in tool_message.content
    assert "could not complete" in state["messages"][-1].content


async def test_recursion_limit_is_enforced() -> None:
    user, _ = await create_user()
    graph = build_graph(InMemorySaver())
    with pytest.raises(GraphRecursionError):
        await graph.ainvoke(
            {"messages": [HumanMessage("show my items")]}, _config(limit=2), context=_context(user)
        )


async def test_unknown_request_gets_the_help_text() -> None:
    user, _ = await create_user()
    graph = build_graph(InMemorySaver())
    state = await graph.ainvoke(
        {"messages": [HumanMessage("write me a poem")]}, _config(), context=_context(user)
    )
    assert state["messages"][-1].content == HELP_TEXT
    assert state["plan_steps"] == [{"description": "Answer directly", "tool": None}]


async def test_routing_predicates() -> None:
    call = {"name": "x", "args": {}, "id": "1"}
    assert await needs_tools({"messages": [AIMessage("", tool_calls=[call])]}) == "approval"
    assert await needs_tools({"messages": [AIMessage("done")]}) == "__end__"
    assert await needs_more_execution({"stop_reason": None}) == "executor"
    assert await needs_more_execution({"stop_reason": TOOL_BUDGET_EXCEEDED}) == "__end__"


def test_dangling_tool_calls_are_answered() -> None:
    calls = [{"name": "a", "args": {}, "id": "1"}, {"name": "b", "args": {}, "id": "2"}]
    history = [
        HumanMessage("hi"),
        AIMessage("", tool_calls=calls),
        ToolMessage("ok", tool_call_id="1"),
    ]
    repaired = answered_tool_calls(history)
    answered = [m.tool_call_id for m in repaired if isinstance(m, ToolMessage)]
    assert sorted(answered) == ["1", "2"]
    assert answered_tool_calls(repaired) == repaired


async def test_offline_model_streams_tool_calls_and_usage() -> None:
    model = OfflineChatModel().bind_tools(
        build_tools(ToolContext(uuid.uuid4(), False, SessionMaker, settings))
    )
    merged = None
    async for chunk in model.astream([HumanMessage("find https://example.com/x and my items")]):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None
    assert [c["name"] for c in merged.tool_calls] == ["lookup_user_items", "http_get"]
    assert merged.tool_calls[1]["args"] == {"url": "https://example.com/x"}
    assert (
        merged.usage_metadata["total_tokens"]
        == merged.usage_metadata["input_tokens"] + merged.usage_metadata["output_tokens"]
    )
    streamed_text = ""
    async for chunk in OfflineChatModel().astream([HumanMessage("hello")]):
        streamed_text += chunk.text
    assert streamed_text == HELP_TEXT
