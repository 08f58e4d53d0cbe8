"""Agent Protocol shapes: what LangGraph SDK clients send and parse (`Thread`, `ThreadState`,
`Run`, `Assistant`). Unknown request fields are ignored, as the reference server ignores them."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.agents.schemas import MAX_METADATA_CHARS
from app.models.storable import StorableJson, StorableText, json_limited

MAX_OFFSET = 2**63 - 1
Metadata = Annotated[StorableJson, json_limited(MAX_METADATA_CHARS)]
ThreadStatusName = Literal["idle", "busy", "interrupted", "error"]
RunStatusName = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
StreamModeName = Literal["values", "updates", "messages", "messages-tuple", "custom"]
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]


class ProtocolRequest(BaseModel):
    """A request body: fields we don't use are ignored (clients send more than we need)."""

    model_config = ConfigDict(extra="ignore")


# --- assistants ---


class AssistantPublic(BaseModel):
    """The one assistant: the planner/executor graph."""

    assistant_id: str
    graph_id: str
    name: str
    description: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    version: int = 1
    created_at: datetime
    updated_at: datetime


class AssistantSearch(ProtocolRequest):
    """`POST /assistants/search`."""

    graph_id: str | None = None
    name: str | None = Field(default=None, max_length=200)
    metadata: Metadata | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class AssistantSchemas(BaseModel):
    """`GET /assistants/{id}/schemas`: JSON Schemas of the graph's input, state and context."""

    graph_id: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    state_schema: dict[str, Any]
    config_schema: dict[str, Any]
    context_schema: dict[str, Any]


# --- threads ---


class ThreadCreate(ProtocolRequest):
    """`POST /threads`."""

    thread_id: uuid.UUID | None = None
    metadata: Metadata | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"


class ThreadPatch(ProtocolRequest):
    """`PATCH /threads/{id}`: metadata merged into the thread's."""

    metadata: Metadata


class ThreadSearch(ProtocolRequest):
    """`POST /threads/search`."""

    metadata: Metadata | None = None
    ids: list[uuid.UUID] | None = Field(default=None, max_length=1000)
    status: ThreadStatusName | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    sort_by: Literal["thread_id", "status", "created_at", "updated_at"] = "updated_at"
    sort_order: Literal["asc", "desc"] = "desc"


class ProtocolThread(BaseModel):
    """The SDK's `Thread`."""

    thread_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    state_updated_at: datetime
    metadata: dict[str, Any]
    status: ThreadStatusName
    values: dict[str, Any] = Field(default_factory=dict)
    interrupts: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)


class CheckpointRef(ProtocolRequest):
    """A checkpoint of a thread, as clients send and receive it."""

    thread_id: StorableText | None = None
    checkpoint_ns: StorableText = ""
    checkpoint_id: StorableText | None = Field(default=None, max_length=64)
    checkpoint_map: dict[str, Any] | None = None


class ThreadTask(BaseModel):
    """A task the state is waiting on (with its interrupts)."""

    id: str
    name: str
    error: str | None = None
    interrupts: list[dict[str, Any]] = Field(default_factory=list)
    checkpoint: CheckpointRef | None = None
    state: None = None
    result: dict[str, Any] | None = None


class ThreadState(BaseModel):
    """The SDK's `ThreadState`."""

    values: dict[str, Any]
    next: list[str]
    checkpoint: CheckpointRef
    metadata: dict[str, Any]
    created_at: str | None
    parent_checkpoint: CheckpointRef | None
    tasks: list[ThreadTask]
    interrupts: list[dict[str, Any]] = Field(default_factory=list)


class HistoryRequest(ProtocolRequest):
    """`POST /threads/{id}/history`: newest first."""

    limit: int = Field(default=10, ge=1, le=1000)
    before: CheckpointRef | StorableText | None = None
    metadata: Metadata | None = None
    checkpoint: CheckpointRef | None = None

    @field_validator("before", mode="before")
    @classmethod
    def _unwrap_config(cls, value: Any) -> Any:
        """The JS SDK sends `before` as a config (`{configurable: {checkpoint_id}}`)."""
        if isinstance(value, dict) and isinstance(value.get("configurable"), dict):
            return value["configurable"]
        return value


# --- runs ---


class RunCommand(ProtocolRequest):
    """`command`: resume a pause, update the state and/or go to a node."""

    resume: Any = None
    update: dict[str, Any] | list[Any] | None = None
    goto: StorableText | list[StorableText] | None = None


class RunCreate(ProtocolRequest):
    """`POST /threads/{id}/runs[/stream|/wait]` and the stateless `/runs/stream|wait`."""

    assistant_id: str = Field(max_length=200)
    input: dict[str, Any] | None = None
    command: RunCommand | None = None
    checkpoint: CheckpointRef | None = None
    checkpoint_id: StorableText | None = Field(default=None, max_length=64)
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: Metadata | None = None
    stream_mode: StreamModeName | list[StreamModeName] = "values"
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    on_disconnect: Literal["cancel", "continue"] | None = None
    multitask_strategy: MultitaskStrategy = "reject"
    if_not_exists: Literal["create", "reject"] = "reject"
    on_completion: Literal["delete", "keep"] = "delete"
    durability: Literal["sync", "async", "exit"] | None = None

    def modes(self) -> list[str]:
        """The requested stream modes as a list."""
        return [self.stream_mode] if isinstance(self.stream_mode, str) else list(self.stream_mode)


class ProtocolRun(BaseModel):
    """The SDK's `Run`."""

    run_id: uuid.UUID
    thread_id: uuid.UUID
    assistant_id: str
    created_at: datetime
    updated_at: datetime
    status: RunStatusName
    metadata: dict[str, Any]
    multitask_strategy: MultitaskStrategy = "reject"
    run_kwargs: dict[str, Any] = Field(default_factory=dict, serialization_alias="kwargs")
