"""The fake Langfuse's data model: observations from OTLP spans, traces derived, scores."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.otlp import SpanRecord

# Span attribute names set by the Langfuse Python SDK 5 (langfuse/_client/attributes.py).
A_TRACE_NAME = "langfuse.trace.name"
A_USER_ID = "user.id"
A_SESSION_ID = "session.id"
A_TAGS = "langfuse.trace.tags"
A_PUBLIC = "langfuse.trace.public"
A_TRACE_METADATA = "langfuse.trace.metadata"
A_TYPE = "langfuse.observation.type"
A_OBS_METADATA = "langfuse.observation.metadata"
A_LEVEL = "langfuse.observation.level"
A_STATUS_MESSAGE = "langfuse.observation.status_message"
A_INPUT = "langfuse.observation.input"
A_OUTPUT = "langfuse.observation.output"
A_COMPLETION_START = "langfuse.observation.completion_start_time"
A_MODEL = "langfuse.observation.model.name"
A_MODEL_PARAMETERS = "langfuse.observation.model.parameters"
A_USAGE = "langfuse.observation.usage_details"
A_COST = "langfuse.observation.cost_details"
A_PROMPT_NAME = "langfuse.observation.prompt.name"
A_PROMPT_VERSION = "langfuse.observation.prompt.version"
A_ENVIRONMENT = "langfuse.environment"
A_RELEASE = "langfuse.release"
A_VERSION = "langfuse.version"
A_AS_ROOT = "langfuse.internal.as_root"
A_IS_APP_ROOT = "langfuse.internal.is_app_root"

_KNOWN_PREFIXES = ("langfuse.", "user.id", "session.id")


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with milliseconds and a Z, as the Langfuse API writes timestamps."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(raw: str) -> datetime:
    """Parse an ISO 8601 timestamp; naive values are taken as UTC."""
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def json_or_raw(raw: Any) -> Any:
    """Decode a JSON-encoded attribute value; keep plain strings as they are."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_ns(nanos: int) -> datetime:
    return _EPOCH + timedelta(microseconds=nanos // 1000)


def _prefixed(attributes: dict[str, Any], prefix: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if prefix in attributes:
        whole = json_or_raw(attributes[prefix])
        if isinstance(whole, dict):
            values.update(whole)
        else:
            values["metadata"] = whole
    for key, raw in attributes.items():
        if key.startswith(prefix + "."):
            values[key[len(prefix) + 1 :]] = json_or_raw(raw)
    return values


def _with_total(details: dict[str, Any]) -> dict[str, Any]:
    if details and "total" not in details:
        details["total"] = sum(
            value for value in details.values() if isinstance(value, int | float)
        )
    return details


@dataclass
class Observation:
    """One observation (span, generation, tool, ...) as the Langfuse API shows it."""

    id: str
    trace_id: str
    type: str
    name: str
    start_time: datetime
    end_time: datetime | None
    parent_observation_id: str | None
    is_root: bool
    level: str
    status_message: str | None
    version: str | None
    environment: str
    user_id: str | None
    session_id: str | None
    completion_start_time: datetime | None
    input: str | None
    output: str | None
    metadata: dict[str, Any]
    model: str | None
    model_parameters: Any
    usage_details: dict[str, int]
    cost_details: dict[str, float]
    prompt_name: str | None
    prompt_version: int | None
    trace_name: str | None
    tags: list[str]
    release: str | None
    public: bool
    trace_metadata: dict[str, Any]
    created_at: datetime = field(default_factory=now)

    @property
    def latency(self) -> float | None:
        """Seconds from start to end."""
        return (self.end_time - self.start_time).total_seconds() if self.end_time else None

    @property
    def time_to_first_token(self) -> float | None:
        """Seconds from start to the first completion token."""
        if self.completion_start_time is None:
            return None
        return (self.completion_start_time - self.start_time).total_seconds()

    @property
    def total_cost(self) -> float | None:
        """The total cost in USD, when the SDK reported costs."""
        total = self.cost_details.get("total")
        return float(total) if total is not None else None


def observation_from_span(span: SpanRecord) -> Observation:
    """Map one OTLP span to an observation, reading the attributes the Langfuse SDK sets."""
    attrs = span.attributes
    completion_start = attrs.get(A_COMPLETION_START)
    completion_start = json_or_raw(completion_start) if completion_start else None
    metadata = _prefixed(attrs, A_OBS_METADATA)
    foreign = {k: v for k, v in attrs.items() if not k.startswith(_KNOWN_PREFIXES)}
    if foreign:
        metadata.setdefault("attributes", foreign)
    level = attrs.get(A_LEVEL) or ("ERROR" if span.status_code == "ERROR" else "DEFAULT")
    prompt_version = attrs.get(A_PROMPT_VERSION)
    return Observation(
        id=span.span_id,
        trace_id=span.trace_id,
        type=str(attrs.get(A_TYPE) or "span").upper(),
        name=span.name,
        start_time=_from_ns(span.start_ns),
        end_time=_from_ns(span.end_ns) if span.end_ns else None,
        parent_observation_id=span.parent_span_id,
        is_root=span.parent_span_id is None
        or bool(attrs.get(A_IS_APP_ROOT))
        or bool(attrs.get(A_AS_ROOT)),
        level=str(level).upper(),
        status_message=attrs.get(A_STATUS_MESSAGE) or span.status_message or None,
        version=attrs.get(A_VERSION),
        environment=attrs.get(A_ENVIRONMENT) or "default",
        user_id=attrs.get(A_USER_ID),
        session_id=attrs.get(A_SESSION_ID),
        completion_start_time=parse_iso(completion_start) if completion_start else None,
        input=attrs.get(A_INPUT),
        output=attrs.get(A_OUTPUT),
        metadata=metadata,
        model=attrs.get(A_MODEL),
        model_parameters=json_or_raw(attrs.get(A_MODEL_PARAMETERS)),
        usage_details=_with_total(dict(json_or_raw(attrs.get(A_USAGE)) or {})),
        cost_details=_with_total(dict(json_or_raw(attrs.get(A_COST)) or {})),
        prompt_name=attrs.get(A_PROMPT_NAME),
        prompt_version=int(prompt_version) if prompt_version is not None else None,
        trace_name=attrs.get(A_TRACE_NAME),
        tags=[str(tag) for tag in attrs.get(A_TAGS) or []],
        release=attrs.get(A_RELEASE),
        public=bool(attrs.get(A_PUBLIC)),
        trace_metadata=_prefixed(attrs, A_TRACE_METADATA),
    )


@dataclass
class Trace:
    """A trace, derived from its observations the way Langfuse v4 does."""

    id: str
    timestamp: datetime
    name: str | None
    user_id: str | None
    session_id: str | None
    tags: list[str]
    metadata: dict[str, Any]
    input: Any
    output: Any
    release: str | None
    version: str | None
    environment: str
    public: bool
    latency: float | None
    total_cost: float | None
    observations: list[Observation]


def _first(values: list[Any]) -> Any:
    return next((value for value in values if value not in (None, "")), None)


def build_trace(trace_id: str, observations: list[Observation]) -> Trace:
    """Trace attributes come from the root observation first, then from any other one."""
    ordered = sorted(observations, key=lambda obs: obs.start_time)
    roots = [obs for obs in ordered if obs.parent_observation_id is None] or [
        obs for obs in ordered if obs.is_root
    ]
    root = roots[0] if roots else ordered[0]
    preferred = [root, *[obs for obs in ordered if obs is not root]]
    metadata: dict[str, Any] = {}
    for obs in reversed(preferred):  # the root's values win
        metadata.update(obs.trace_metadata)
    ends = [obs.end_time for obs in ordered if obs.end_time]
    costs = [obs.total_cost for obs in ordered if obs.total_cost is not None]
    start = ordered[0].start_time
    return Trace(
        id=trace_id,
        timestamp=start,
        name=_first([obs.trace_name for obs in preferred]) or root.name,
        user_id=_first([obs.user_id for obs in preferred]),
        session_id=_first([obs.session_id for obs in preferred]),
        tags=sorted({tag for obs in ordered for tag in obs.tags}),
        metadata=metadata,
        input=json_or_raw(root.input),
        output=json_or_raw(root.output),
        release=_first([obs.release for obs in preferred]),
        version=_first([obs.version for obs in preferred]),
        environment=root.environment,
        public=any(obs.public for obs in ordered),
        latency=(max(ends) - start).total_seconds() if ends else None,
        total_cost=sum(costs) if costs else None,
        observations=ordered,
    )


@dataclass
class Score:
    """A stored score; `numeric` and `string_value` follow the API's per-type rules."""

    id: str
    name: str
    data_type: str
    numeric: float
    string_value: str | None
    source: str
    trace_id: str | None
    session_id: str | None
    observation_id: str | None
    dataset_run_id: str | None
    comment: str | None
    metadata: Any
    config_id: str | None
    queue_id: str | None
    environment: str
    timestamp: datetime
    author_user_id: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
