"""The planner → executor LangGraph: plan once, then call tools until the model answers.

Safety: an input guard runs before the planner (raises `GuardrailBlockedError`), tool results
are redacted and untrusted ones fenced before the model reads them, a tainted run asks before
sending data to a host outside the allowlist, and the final answer is redacted.
"""

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

import structlog
from langchain_core.exceptions import ModelRefusalError, OutputParserException
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_function
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import ValidationError
from typing_extensions import TypedDict  # pydantic builds JSON Schemas only from this one on 3.11

from app.agents import untrusted
from app.agents.context import (
    ContextBudget,
    ContextFitter,
    ContextSummary,
    Fitted,
    budget_for,
    live_messages,
)
from app.agents.guardrails import GuardContext, GuardrailEngine, build_guardrails
from app.agents.guardrails.stream import StreamRedactor
from app.agents.llm import ChatModels
from app.agents.model_call import call_model
from app.agents.model_chain import CallScope, ModelChain
from app.agents.prompts import EXECUTOR_PROMPT, PLANNER_PROMPT
from app.agents.schemas import Plan
from app.agents.summary import summariser
from app.core.config import settings
from app.models import REFUSED_BY_USER

logger = structlog.get_logger(__name__)

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
    # Ids of tool results that came from outside the app; the thread is tainted once set.
    untrusted_ids: list[str]
    # The oldest messages folded into one note (app.agents.context); reused by later calls.
    context_summary: ContextSummary | None


@dataclass(frozen=True)
class AgentContext:
    """Per-run dependencies, not checkpointed: the models, this user's tools, the budget."""

    models: ChatModels
    tools: list[BaseTool]
    max_tool_calls: int
    approval_tools: frozenset[str] = frozenset()
    # AgentService passes these from its config; the defaults serve contexts built directly.
    guardrails: GuardrailEngine = field(default_factory=lambda: build_guardrails(settings))
    http_allowed_hosts: tuple[str, ...] = field(
        default_factory=lambda: tuple(settings.AGENT_HTTP_ALLOWED_HOSTS)
    )
    stream_tokens: bool = False  # a client streams this run's answer
    budget: ContextBudget = field(default_factory=lambda: budget_for(settings))
    # The run's deadline for model calls, and the log of which model answered.
    calls: CallScope = field(default_factory=CallScope)


def _untrusted_ids(state: AgentState) -> set[str]:
    return set(state.get("untrusted_ids") or [])


# The planner's structured output is sent as a function: its schema counts against the window.
PLAN_FUNCTION = convert_to_openai_function(Plan)


def _model_history(state: AgentState) -> list[AnyMessage]:
    """The conversation the summary doesn't cover, as the model may see it: repaired,
    untrusted results fenced."""
    live = live_messages(state["messages"], state.get("context_summary"))
    return untrusted.for_model(answered_tool_calls(live), _untrusted_ids(state))


async def _fit(
    state: AgentState, ctx: AgentContext, prompt: SystemMessage, tools: list[Any]
) -> Fitted:
    """The request for one model call, fitted into the model's context window."""
    fitter = ContextFitter(ctx.budget, prompt, tools, summariser(ctx.models, ctx.calls))
    return await fitter.fit(_model_history(state), state.get("context_summary"))


def _with_summary(update: dict[str, Any], fitted: Fitted) -> dict[str, Any]:
    """The node's update, plus the summary when this call folded more turns into it."""
    return update if fitted.summary is None else {**update, "context_summary": fitted.summary}


def _guard_context(state: AgentState) -> GuardContext:
    # `content` when it is a string: `.text` builds a new object per message, and this runs over
    # the whole thread in every node.
    seen = "\n".join(
        m.content if isinstance(m.content, str) else m.text
        for m in state["messages"]
        if isinstance(m, HumanMessage | ToolMessage)
    )
    return GuardContext(user_id=state.get("user_id"), seen_text=seen)


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


async def input_guard(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Check the user's new message; a blocking rule raises GuardrailBlockedError."""
    last = next((m for m in reversed(state["messages"]) if isinstance(m, HumanMessage)), None)
    if last is not None:
        await runtime.context.guardrails.check_input(last.text, _guard_context(state))
    return {}


async def planner(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Write an ordered plan naming the tools it expects to use (the model has no tools here)."""
    ctx = runtime.context
    tool_list = "\n".join(f"- {tool.name}: {tool.description}" for tool in ctx.tools)
    prompt = SystemMessage(PLANNER_PROMPT.format(tool_list=tool_list))
    fitted = await _fit(state, ctx, prompt, [PLAN_FUNCTION])
    try:
        plan = await ctx.models.structured(Plan).ainvoke(fitted.messages, ctx.calls)
    except (ValidationError, OutputParserException) as exc:
        # Every model of the chain answered with a plan that doesn't fit the schema: the plan
        # is advice, so the executor answers without one rather than failing the run.
        logger.warning("planner_invalid_plan", error=str(exc)[:200])
        plan = None
    except ModelRefusalError as exc:
        # Since langchain-core 1.8 / langchain-openai 1.7.4 structured output raises on a refusal
        # (or a content filter) instead of parsing to nothing: plan nothing, as before, and let
        # the executor answer (it may refuse in words, which the user then reads).
        logger.warning("planner_refused", error=str(exc)[:200])
        plan = None
    if not isinstance(plan, Plan):
        plan = Plan(steps=[])
    update = {
        "plan": plan.as_text() or "Answer directly.",
        "plan_steps": [step.model_dump() for step in plan.steps],
        "tool_calls_used": 0,
        "stop_reason": None,
    }
    return _with_summary(update, fitted)


async def executor(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Carry out the plan with the model bound to the tools."""
    ctx = runtime.context
    prompt = SystemMessage(EXECUTOR_PROMPT.format(plan=state.get("plan") or "Answer directly."))
    model = ctx.models.with_tools(ctx.tools)
    guard_context = _guard_context(state)
    fitted = await _fit(state, ctx, prompt, list(ctx.tools))
    history = fitted.messages
    if ctx.stream_tokens:
        response = await _stream_model(model, history, guard_context, runtime)
    else:
        response = await call_model(model, history, scope=ctx.calls)
    if isinstance(response, AIMessage) and not response.tool_calls and response.text:
        # The final answer: redact what the output rules catch (secrets, unseen emails, terms).
        redacted = await ctx.guardrails.redact("output", response.text, guard_context)
        if redacted != response.text:
            response = response.model_copy(update={"content": redacted})
    return _with_summary({"messages": [response]}, fitted)


async def _stream_model(
    model: ModelChain,
    messages: list[AnyMessage],
    guard_context: GuardContext,
    runtime: Runtime[AgentContext],
) -> BaseMessage:
    """Stream the model's answer; its text reaches the run's stream (custom `token` events)
    only after the output rules have redacted it."""
    redactor = StreamRedactor(runtime.context.guardrails, "output", guard_context)
    # The message's id is fixed up front so each token names the message it belongs to.
    answer_id = f"ai-{uuid.uuid4()}"

    async def emit(text: str) -> None:
        if safe := await redactor.feed(text):
            runtime.stream_writer({"token": safe, "message_id": answer_id})

    response = await call_model(model, messages, scope=runtime.context.calls, on_text=emit)
    if rest := await redactor.flush():
        runtime.stream_writer({"token": rest, "message_id": answer_id})
    return response.model_copy(update={"id": answer_id})


def approval_id_for(thread_id: str, tool_call_id: str) -> uuid.UUID:
    """A stable id for the approval of one tool call (the node re-runs on resume)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"agent-approval:{thread_id}:{tool_call_id}")


def _approval_request(
    call: dict[str, Any], state: AgentState, ctx: AgentContext, thread_id: str
) -> dict[str, Any] | None:
    """What to ask the user about this call, or None when it may run without asking.

    Asks for tools that always need approval and, once the run has read untrusted content, for
    egress tools aimed at a host outside the allowlist. Outbound calls carry their data flow.
    """
    call_id = call["id"] or ""
    untrusted_ids = _untrusted_ids(state)
    url_arg = untrusted.egress_url_args(ctx.tools).get(call["name"])
    url = call["args"].get(url_arg) if url_arg else None
    tainted_egress = (
        bool(untrusted_ids)
        and url_arg is not None
        and untrusted.egress_needs_approval(url, list(ctx.http_allowed_hosts))
    )
    if not tainted_egress and call["name"] not in ctx.approval_tools:
        return None
    request: dict[str, Any] = {
        "approval_id": str(approval_id_for(thread_id, call_id)),
        "tool_call_id": call_id,
        "tool": call["name"],
        "args": call["args"],
        "reason": f"{call['name']} acts outside this app, so it needs your approval.",
    }
    if url_arg is None:
        return with_review_shape(request)
    conversation = untrusted.conversation_text(state["messages"], untrusted_ids)
    flow = untrusted.data_flow(str(url), call["args"], url_arg, conversation)
    request["data_flow"] = flow.model_dump(mode="json")
    if tainted_egress:
        request["reason"] = (
            "This conversation has read content from outside the app, which may contain "
            f"instructions planted by someone else. {call['name']} would send a request to "
            f"{flow.host or 'an unknown host'}, which is not in AGENT_HTTP_ALLOWED_HOSTS: "
            "check the data it carries before approving."
        )
    return with_review_shape(request)


def with_review_shape(request: dict[str, Any]) -> dict[str, Any]:
    """The request plus the human-in-the-loop shape agent-chat-ui's inbox renders (Agent
    Protocol clients decide with `command.resume = {"decisions": [...]}`)."""
    return {
        **request,
        "action_requests": [
            {"name": request["tool"], "args": request["args"], "description": request["reason"]}
        ],
        "review_configs": [
            {"action_name": request["tool"], "allowed_decisions": ["approve", "edit", "reject"]}
        ],
    }


async def approval(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Pause before each side-effecting or tainted outbound tool call until its owner approves,
    rejects or edits it."""
    last = state["messages"][-1]
    assert isinstance(last, AIMessage)
    decisions = dict(state.get("approvals") or {})
    thread_id = str(get_config()["configurable"]["thread_id"])
    for call in last.tool_calls:
        call_id = call["id"] or ""
        if call_id in decisions:
            continue
        request = _approval_request(dict(call), state, runtime.context, thread_id)
        if request is not None:
            decisions[call_id] = interrupt(request)
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
    return _error_message(call, f"{REFUSED_BY_USER} ({comment}); the action was not performed")


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
        return result

    decisions = state.get("approvals") or {}
    planned = [
        _apply_decision(dict(call), decisions.get(call["id"] or "")) for call in last.tool_calls
    ]
    refused = [item for item in planned if isinstance(item, ToolMessage)]
    calls = [item for item in planned if not isinstance(item, ToolMessage)]
    allowed = calls[: max(ctx.max_tool_calls - used, 0)]
    ran = await asyncio.gather(*(call_one(call) for call in allowed))
    results = [*refused, *[await _screen(result, state, ctx) for result in ran]]
    for call in calls[len(allowed) :]:
        stop_reason = TOOL_BUDGET_EXCEEDED
        results.append(
            _error_message(call, f"not run: tool-call budget of {ctx.max_tool_calls} reached")
        )
    untrusted_names = untrusted.untrusted_tools(ctx.tools)
    fresh = [m.tool_call_id for m in ran if m.name in untrusted_names and m.status != "error"]
    return {
        "messages": results,
        "tool_calls_used": used + len(allowed),
        "stop_reason": stop_reason,
        "untrusted_ids": [*(state.get("untrusted_ids") or []), *fresh],
    }


async def _screen(result: ToolMessage, state: AgentState, ctx: AgentContext) -> ToolMessage:
    """A tool result with what the output rules catch redacted, before anyone reads it."""
    text = result.text
    redacted = await ctx.guardrails.redact("tool_output", text, _guard_context(state))
    return result if redacted == text else result.model_copy(update={"content": redacted})


# The two routers are async only so LangGraph calls them on the loop: it runs a sync router in
# a thread pool, a thread hop per step for a dictionary lookup.
async def needs_tools(state: AgentState) -> str:
    """Did the executor ask for tools? (They pass the approval gate first.)"""
    last = state["messages"][-1]
    return "approval" if isinstance(last, AIMessage) and last.tool_calls else END


async def needs_more_execution(state: AgentState) -> str:
    """Go back to the executor with the results, unless the budget stopped the run."""
    return END if state.get("stop_reason") else "executor"


def build_graph(
    checkpointer: BaseCheckpointSaver[Any] | None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """input_guard → planner → executor ⇄ (approval → tools) → END."""
    graph = StateGraph(AgentState, context_schema=AgentContext)
    graph.add_node("input_guard", input_guard)
    graph.add_node("planner", planner)
    graph.add_node("executor", executor)
    graph.add_node("approval", approval)
    graph.add_node("tools", run_tools)
    graph.add_edge(START, "input_guard")
    graph.add_edge("input_guard", "planner")
    graph.add_edge("planner", "executor")
    graph.add_conditional_edges("executor", needs_tools, {"approval": "approval", END: END})
    graph.add_edge("approval", "tools")
    graph.add_conditional_edges("tools", needs_more_execution, {"executor": "executor", END: END})
    return graph.compile(checkpointer=checkpointer)
