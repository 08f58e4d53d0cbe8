"""The agent graph's own I/O and its stream events.

Here: what a run takes and gives back (`AgentRunRequest`, `Plan`, `ApprovalRequest`,
`AgentRunResult`) and the events it streams, one schema shared with the frontend via OpenAPI.
Not here: read models of stored rows (runs, threads, approvals) live next to their tables in
`app.models`, as do `ToolCallRecord` and `DataFlow`, which those read models share with the graph.
"""

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from app.core.config import settings
from app.models import (
    DataFlow,
    DegradedReason,
    RunMode,
    ToolCallRecord,
    ToolCallStatus,
    tool_call_status,
)
from app.models.agent import status_optional_in_schema
from app.models.storable import StorableJson, StorableText, json_limited

MAX_METADATA_CHARS = 4000


# --- the graph's input and output ---


class PlanStep(BaseModel):
    """One step of the planner's plan."""

    description: str = Field(description="What to do in this step.")
    tool: str | None = Field(
        default=None, description="The tool this step expects to call, or null for none."
    )


class Plan(BaseModel):
    """The planner's structured output: ordered steps."""

    steps: list[PlanStep] = Field(description="Ordered steps to answer the user.")

    def as_text(self) -> str:
        """The plan as a numbered list."""
        return "\n".join(
            f"{i}. {step.description}" + (f" (tool: {step.tool})" if step.tool else "")
            for i, step in enumerate(self.steps, start=1)
        )


class AgentRunRequest(BaseModel):
    """A message for the agent, optionally continuing a thread."""

    message: StorableText = Field(min_length=1, description="The user's message.")
    thread_id: uuid.UUID | None = Field(default=None, description="Continue this conversation.")
    metadata: Annotated[StorableJson, json_limited(MAX_METADATA_CHARS)] | None = Field(
        default=None, description="Custom trace metadata."
    )
    on_disconnect: Literal["cancel", "continue"] = Field(
        default="cancel",
        description="Cancel the run when the client disconnects before it ends, or let it go "
        "on so the client can rejoin it (`GET /agent/runs/{id}/stream`) or find it in the "
        "history. The server stopping never cancels a run.",
    )

    @field_validator("message")
    @classmethod
    def _check_length(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be blank")
        if len(value) > settings.AGENT_MAX_INPUT_CHARS:
            raise ValueError(
                f"message is longer than AGENT_MAX_INPUT_CHARS ({settings.AGENT_MAX_INPUT_CHARS})"
            )
        return value


class ApprovalRequest(BaseModel):
    """A tool call paused until its owner decides."""

    approval_id: uuid.UUID
    tool: str
    args: dict[str, Any]
    reason: str
    tool_call_id: str | None = None
    # Set when the run read untrusted content and the call would send data out of the app.
    data_flow: DataFlow | None = None


class AgentRunResult(BaseModel):
    """The outcome of one run (the seed's dict, plus cost and tool calls)."""

    run_id: uuid.UUID
    thread_id: uuid.UUID
    status: str
    response: str | None = None
    plan: str | None = None
    trace_id: str | None = None
    trace_url: str | None = None
    latency_ms: int | None = None
    # The model that answered; `degraded` when it was a fallback, with the reason.
    model: str | None = None
    mode: RunMode = "normal"
    degraded_reason: DegradedReason | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    error: str | None = None
    pending_approval: ApprovalRequest | None = None


# --- stream events: one schema, exported in OpenAPI, generated into the frontend's types ---


class RunStartedEvent(BaseModel):
    """The run was recorded and is starting."""

    type: Literal["run_started"] = "run_started"
    run_id: uuid.UUID
    thread_id: uuid.UUID
    trace_id: str | None = None
    trace_url: str | None = None


class PlanEvent(BaseModel):
    """The planner's plan."""

    type: Literal["plan"] = "plan"
    text: str
    steps: list[PlanStep]


class TokenEvent(BaseModel):
    """A piece of the answer text."""

    type: Literal["token"] = "token"
    text: str
    message_id: str | None = Field(default=None, description="The answer message it belongs to.")


class ToolCallEvent(BaseModel):
    """The executor called a tool."""

    type: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    args: dict[str, Any]


class ToolResultEvent(BaseModel):
    """A tool returned."""

    model_config = ConfigDict(json_schema_extra=status_optional_in_schema)

    type: Literal["tool_result"] = "tool_result"
    id: str
    name: str
    output: str
    ok: bool

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> ToolCallStatus:
        """done | failed | rejected, derived as everywhere else (`tool_call_status`)."""
        return tool_call_status(self.output, self.ok)


class ApprovalRequiredEvent(ApprovalRequest):
    """The run paused before a side-effecting tool; decide it to resume the run."""

    type: Literal["approval_required"] = "approval_required"
    run_id: uuid.UUID


class RunCompletedEvent(AgentRunResult):
    """The run finished (any terminal status); same fields as `/agent/run`."""

    type: Literal["run_completed"] = "run_completed"


class ErrorEvent(BaseModel):
    """The run failed or was refused."""

    type: Literal["error"] = "error"
    code: Literal[
        "model_error",
        "model_timeout",
        "model_unavailable",
        "budget_exceeded",
        "cancelled",
        "internal",
        "not_found",
        "conflict",
        "interrupted",
        "unavailable",
        "tool_failed",
        "guardrail_blocked",
    ]
    message: str
    run_id: uuid.UUID | None = None


StreamEvent = (
    RunStartedEvent
    | PlanEvent
    | TokenEvent
    | ToolCallEvent
    | ToolResultEvent
    | ApprovalRequiredEvent
    | RunCompletedEvent
    | ErrorEvent
)
AgentStreamEvent = Annotated[StreamEvent, Field(discriminator="type")]


class StateEvent(BaseModel):
    """The graph's state after a step (`values`) or a node's update (`updates`), logged only
    for runs whose Agent Protocol client asked for those stream modes; never sent on
    `/agent/run/stream`."""

    type: Literal["state"] = "state"
    mode: Literal["values", "updates"]
    data: dict[str, Any]


LoggedStreamEvent = StreamEvent | StateEvent


class AgentStreamEnvelope(BaseModel):
    """Documents the `data:` payload of each Server-Sent Event of `/agent/run/stream`."""

    event: AgentStreamEvent
