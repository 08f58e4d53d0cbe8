"""Read endpoints of the fake Langfuse: observations v2 and traces (filters and pagination)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from starlette.datastructures import QueryParams

from tests.fakes.langfuse_model import Observation, Trace, parse_iso
from tests.fakes.langfuse_query import (
    Condition,
    QueryError,
    apply_filter,
    decode_cursor,
    encode_cursor,
    parse_bool,
    parse_filter,
    parse_groups,
    parse_int,
    parse_time,
)
from tests.fakes.langfuse_render import (
    DEPRECATION,
    OBSERVATION_GROUPS,
    TRACE_GROUPS,
    render_observation_v2,
    render_trace,
)
from tests.fakes.langfuse_store import LangfuseStore


def _tokens_per_second(obs: Observation) -> float | None:
    output = obs.usage_details.get("output")
    return output / obs.latency if output is not None and obs.latency else None


ObsColumn = Callable[[Observation, Trace], Any]
_OBS_COLUMNS: dict[str, ObsColumn] = {
    "id": lambda o, t: o.id,
    "type": lambda o, t: o.type,
    "name": lambda o, t: o.name,
    "traceId": lambda o, t: o.trace_id,
    "startTime": lambda o, t: o.start_time,
    "endTime": lambda o, t: o.end_time,
    "environment": lambda o, t: o.environment,
    "level": lambda o, t: o.level,
    "statusMessage": lambda o, t: o.status_message,
    "version": lambda o, t: o.version,
    "userId": lambda o, t: o.user_id,
    "sessionId": lambda o, t: o.session_id,
    "parentObservationId": lambda o, t: o.parent_observation_id,
    "isRootObservation": lambda o, t: o.is_root,
    "traceName": lambda o, t: t.name,
    "traceTags": lambda o, t: t.tags,
    "tags": lambda o, t: t.tags,
    "latency": lambda o, t: o.latency,
    "timeToFirstToken": lambda o, t: o.time_to_first_token,
    "tokensPerSecond": lambda o, t: _tokens_per_second(o),
    "inputTokens": lambda o, t: o.usage_details.get("input"),
    "outputTokens": lambda o, t: o.usage_details.get("output"),
    "totalTokens": lambda o, t: o.usage_details.get("total"),
    "tokens": lambda o, t: o.usage_details.get("total"),
    "inputCost": lambda o, t: o.cost_details.get("input"),
    "outputCost": lambda o, t: o.cost_details.get("output"),
    "totalCost": lambda o, t: o.total_cost,
    "model": lambda o, t: o.model,
    "providedModelName": lambda o, t: o.model,
    "promptName": lambda o, t: o.prompt_name,
    "promptVersion": lambda o, t: o.prompt_version,
    "input": lambda o, t: o.input,
    "output": lambda o, t: o.output,
}

_STRING_PARAMS = ("name", "userId", "sessionId", "type", "traceId", "level", "version")


def _observation_conditions(params: QueryParams) -> list[Condition]:
    """The individual query-parameter filters, expressed as `filter` conditions."""
    conditions = [
        Condition("string", key, "=", params[key], None)
        for key in _STRING_PARAMS
        if params.get(key)
    ]
    parent = params.get("parentObservationId")
    if parent == "":
        conditions.append(Condition("null", "parentObservationId", "is null", None, None))
    elif parent:
        conditions.append(Condition("string", "parentObservationId", "=", parent, None))
    is_root = parse_bool(params.get("isRootObservation"), "isRootObservation")
    if is_root is not None:
        conditions.append(Condition("boolean", "isRootObservation", "=", is_root, None))
    environments = params.getlist("environment")
    if environments:
        conditions.append(Condition("stringOptions", "environment", "any of", environments, None))
    for key, operator in (("fromStartTime", ">="), ("toStartTime", "<")):
        if parse_time(params.get(key), key):
            conditions.append(Condition("datetime", "startTime", operator, params[key], None))
    return conditions


def _check_io_filters(conditions: list[Condition]) -> None:
    io = [c for c in conditions if c.column in ("input", "output")]
    if io and not any(c.operator in ("=", "matches") for c in io):
        raise QueryError("input/output filters need at least one '=' or 'matches' condition")


def list_observations(store: LangfuseStore, project_id: str, params: QueryParams) -> dict[str, Any]:
    """GET /api/public/v2/observations."""
    groups = parse_groups(params.get("fields"), OBSERVATION_GROUPS, {"core", "basic"})
    expand = {key.strip() for key in (params.get("expandMetadata") or "").split(",")}
    limit = parse_int(params.get("limit"), "limit", default=50, minimum=1, maximum=1000)
    if parse_bool(params.get("parseIoAsJson"), "parseIoAsJson"):
        raise QueryError("parseIoAsJson is deprecated; input and output are raw strings")
    conditions = parse_filter(params.get("filter"))
    if conditions is None:
        conditions = _observation_conditions(params)
    _check_io_filters(conditions)
    traces = store.traces()

    def column(obs: Observation, condition: Condition) -> Any:
        if condition.column == "metadata":
            return obs.metadata.get(condition.key or "")
        getter = _OBS_COLUMNS.get(condition.column)
        if getter is None:
            raise QueryError(f"unknown filter column {condition.column!r}")
        return getter(obs, traces[obs.trace_id])

    items = apply_filter(conditions, store.observations(), column)
    position = decode_cursor(params.get("cursor"))
    if position is not None:
        after = (parse_iso(str(position[0])), str(position[1]))
        items = [obs for obs in items if (obs.start_time, obs.id) < after]
    page = items[:limit]
    cursor = None
    if len(items) > limit:
        last = page[-1]
        cursor = encode_cursor([last.start_time.isoformat(), last.id])
    data = [
        render_observation_v2(obs, traces[obs.trace_id], project_id, groups, expand) for obs in page
    ]
    return {"data": data, "meta": {"cursor": cursor} if cursor else {}}


_TRACE_COLUMNS: dict[str, Callable[[Trace], Any]] = {
    "id": lambda t: t.id,
    "name": lambda t: t.name,
    "timestamp": lambda t: t.timestamp,
    "userId": lambda t: t.user_id,
    "sessionId": lambda t: t.session_id,
    "environment": lambda t: t.environment,
    "version": lambda t: t.version,
    "release": lambda t: t.release,
    "tags": lambda t: t.tags,
    "bookmarked": lambda t: False,
    "public": lambda t: t.public,
    "latency": lambda t: t.latency,
    "totalCost": lambda t: t.total_cost,
    "inputTokens": lambda t: sum(o.usage_details.get("input", 0) for o in t.observations),
    "outputTokens": lambda t: sum(o.usage_details.get("output", 0) for o in t.observations),
    "totalTokens": lambda t: sum(o.usage_details.get("total", 0) for o in t.observations),
    "tokens": lambda t: sum(o.usage_details.get("total", 0) for o in t.observations),
}
_ORDER_FIELDS = {"id", "timestamp", "name", "userId", "release", "version", "public", "sessionId"}


def _trace_conditions(params: QueryParams) -> list[Condition]:
    conditions = [
        Condition("string", key, "=", params[key], None)
        for key in ("userId", "name", "sessionId", "version", "release")
        if params.get(key)
    ]
    if params.getlist("tags"):
        conditions.append(Condition("arrayOptions", "tags", "all of", params.getlist("tags"), None))
    if params.getlist("environment"):
        envs = params.getlist("environment")
        conditions.append(Condition("stringOptions", "environment", "any of", envs, None))
    for key, operator in (("fromTimestamp", ">="), ("toTimestamp", "<")):
        if parse_time(params.get(key), key):
            conditions.append(Condition("datetime", "timestamp", operator, params[key], None))
    return conditions


def _trace_column(trace: Trace, condition: Condition) -> Any:
    if condition.column == "metadata":
        return trace.metadata.get(condition.key or "")
    getter = _TRACE_COLUMNS.get(condition.column)
    if getter is None:
        raise QueryError(f"unknown filter column {condition.column!r}")
    return getter(trace)


def _order_key(field: str) -> Callable[[Trace], Any]:
    getter = _TRACE_COLUMNS.get(field)
    if getter is None:
        raise QueryError(f"cannot order by {field!r}")

    def key(trace: Trace) -> tuple[bool, Any, str]:
        value = getter(trace)
        return (value is not None, "" if value is None else value, trace.id)

    return key


def list_traces(store: LangfuseStore, project_id: str, params: QueryParams) -> dict[str, Any]:
    """GET /api/public/traces (deprecated in the spec; page-based)."""
    page = parse_int(params.get("page"), "page", default=1, minimum=1, maximum=10**6)
    limit = parse_int(params.get("limit"), "limit", default=50, minimum=1, maximum=1000)
    groups = parse_groups(params.get("fields"), TRACE_GROUPS, TRACE_GROUPS) | {"core"}
    field, _, direction = (params.get("orderBy") or "timestamp.desc").partition(".")
    if field not in _ORDER_FIELDS or direction not in ("asc", "desc"):
        raise QueryError("orderBy must look like timestamp.desc")
    conditions = parse_filter(params.get("filter"))
    if conditions is None:
        conditions = _trace_conditions(params)
    traces = apply_filter(conditions, list(store.traces().values()), _trace_column)
    traces.sort(key=_order_key(field), reverse=direction == "desc")
    scores = store.scores()
    chunk = traces[(page - 1) * limit : page * limit]
    data = [
        render_trace(t, project_id, [s for s in scores if s.trace_id == t.id], groups, full=False)
        for t in chunk
    ]
    meta = {
        "page": page,
        "limit": limit,
        "totalItems": len(traces),
        "totalPages": math.ceil(len(traces) / limit),
    }
    return {"data": data, "meta": meta, "_deprecation": DEPRECATION}


def get_trace(store: LangfuseStore, project_id: str, trace_id: str, params: QueryParams) -> Any:
    """GET /api/public/traces/{traceId}; None when unknown."""
    trace = store.trace(trace_id)
    if trace is None:
        return None
    groups = parse_groups(params.get("fields"), TRACE_GROUPS, TRACE_GROUPS) | {"core"}
    scores = [s for s in store.scores() if s.trace_id == trace_id]
    return render_trace(trace, project_id, scores, groups, full=True)
