"""The planner → executor LangGraph: plan once, then call tools until the model answers."""

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from app.agents.llm import ChatModels
from app.agents.prompts import EXECUTOR_PROMPT, PLANNER_PROMPT
from app.agents.schemas import Plan

TOOL_BUDGET_EXCEEDED = "tool_budget_exceeded"


class AgentState(TypedDict, total=False):
    """What the graph carries between steps (checkpointed per thread)."""

    messages: Annotated[list[AnyMessage], add_messages]
    plan: str | None
    plan_steps: list[dict[str, Any]]
    user_id: str
    tool_calls_used: int
    stop_reason: str | None
    approvals: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class AgentContext:
    """Per-run dependencies, not checkpointed: the models, this user's tools, the budget."""

    models: ChatModels
    tools: list[BaseTool]
    max_tool_calls: int
    approval_tools: frozenset[str] = frozenset()


def _error_message(call: dict[str, Any], error: str) -> ToolMessage:
    return ToolMessage(
        content=json.dumps({"error": error}),
        tool_call_id=call["id"],
        name=call["name"],
        status="error",
    )


def answered_tool_calls(messages: list[AnyMessage]) -> list[AnyMessage]:
    """Messages where every tool call has a result (a run cut short can leave some unanswered,
    and providers reject a history like that on the next turn)."""
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    repaired: list[AnyMessage] = []
    for message in messages:
        repaired.append(message)
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call["id"] not in answered:
                    repaired.append(_error_message(dict(call), "not run: the run was interrupted"))
    return repaired


async def planner(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Write an ordered plan naming the tools it expects to use (the model has no tools here)."""
    ctx = runtime.context
    tool_list = "\n".join(f"- {tool.name}: {tool.description}" for tool in ctx.tools)
    prompt = SystemMessage(PLANNER_PROMPT.format(tool_list=tool_list))
    history = answered_tool_calls(state["messages"])
    plan = await ctx.models.structured(Plan).ainvoke([prompt, *history])
    if not isinstance(plan, Plan):
        plan = Plan(steps=[])
    return {
        "plan": plan.as_text() or "Answer directly.",
        "plan_steps": [step.model_dump() for step in plan.steps],
        "tool_calls_used": 0,
        "stop_reason": None,
    }


async def executor(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Carry out the plan with the model bound to the tools."""
    ctx = runtime.context
    prompt = SystemMessage(EXECUTOR_PROMPT.format(plan=state.get("plan") or "Answer directly."))
    model = ctx.models.with_tools(ctx.tools)
    response = await model.ainvoke([prompt, *answered_tool_calls(state["messages"])])
    return {"messages": [response]}


def approval_id_for(thread_id: str, tool_call_id: str) -> uuid.UUID:
    """A stable id for the approval of one tool call (the node re-runs on resume)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"agent-approval:{thread_id}:{tool_call_id}")


async def approval(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Pause before each side-effecting tool call until its owner approves, rejects or edits it."""
    ctx = runtime.context
    last = state["messages"][-1]
    assert isinstance(last, AIMessage)
    decisions = dict(state.get("approvals") or {})
    thread_id = str(get_config()["configurable"]["thread_id"])
    for call in last.tool_calls:
        call_id = call["id"] or ""
        if call["name"] not in ctx.approval_tools or call_id in decisions:
            continue
        decisions[call_id] = interrupt(
            {
                "approval_id": str(approval_id_for(thread_id, call_id)),
                "tool_call_id": call_id,
                "tool": call["name"],
                "args": call["args"],
                "reason": f"{call['name']} acts outside this app, so it needs your approval.",
            }
        )
    return {"approvals": decisions}


def _apply_decision(
    call: dict[str, Any], decision: dict[str, Any] | None
) -> dict[str, Any] | ToolMessage:
    """The call to run (edited args applied), or the refusal to report instead of running it."""
    if decision is None or decision.get("decision") == "approve":
        return call
    if decision.get("decision") == "edit":
        return {**call, "args": decision.get("args") or {}}
    comment = decision.get("comment") or "no reason given"
    return _error_message(call, f"refused by the user ({comment}); the action was not performed")


async def run_tools(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Run the requested tool calls concurrently, within the per-run tool-call budget."""
    ctx = runtime.context
    last = state["messages"][-1]
    assert isinstance(last, AIMessage)
    by_name = {tool.name: tool for tool in ctx.tools}
    used = state.get("tool_calls_used", 0)
    stop_reason = None

    async def call_one(call: dict[str, Any]) -> ToolMessage:
        tool = by_name.get(call["name"])
        if tool is None:
            return _error_message(call, f"unknown tool {call['name']!r}")
        try:
            result = await tool.ainvoke({**call, "type": "tool_call"})
        except Exception as exc:
            return _error_message(call, f"{type(exc).__name__}: {exc}")
        assert isinstance(result, ToolMessage)
        if isinstance(result.content, str) and result.content.startswith('{"error"'):
            result.status = "error"
        return result

    decisions = state.get("approvals") or {}
    planned = [
        _apply_decision(dict(call), decisions.get(call["id"] or "")) for call in last.tool_calls
    ]
    refused = [item for item in planned if isinstance(item, ToolMessage)]
    calls = [item for item in planned if not isinstance(item, ToolMessage)]
    allowed = calls[: max(ctx.max_tool_calls - used, 0)]
    results = [*refused, *await asyncio.gather(*(call_one(call) for call in allowed))]
    for call in calls[len(allowed) :]:
        stop_reason = TOOL_BUDGET_EXCEEDED
        results.append(
            _error_message(call, f"not run: tool-call budget of {ctx.max_tool_calls} reached")
        )
    return {"messages": results, "tool_calls_used": used + len(allowed), "stop_reason": stop_reason}


def needs_tools(state: AgentState) -> str:
    """Did the executor ask for tools? (They pass the approval gate first.)"""
    last = state["messages"][-1]
    return "approval" if isinstance(last, AIMessage) and last.tool_calls else END


def needs_more_execution(state: AgentState) -> str:
    """Go back to the executor with the results, unless the budget stopped the run."""
    return END if state.get("stop_reason") else "executor"


def build_graph(
    checkpointer: BaseCheckpointSaver[Any] | None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """planner → executor ⇄ (approval → tools) → END."""
    graph = StateGraph(AgentState, context_schema=AgentContext)
    graph.add_node("planner", planner)
    graph.add_node("executor", executor)
    graph.add_node("approval", approval)
    graph.add_node("tools", run_tools)
    graph.add_edge(START, "planner")
    graph.add_edge("planner", "executor")
    graph.add_conditional_edges("executor", needs_tools, {"approval": "approval", END: END})
    graph.add_edge("approval", "tools")
    graph.add_conditional_edges("tools", needs_more_execution, {"executor": "executor", END: END})
    return graph.compile(checkpointer=checkpointer)
