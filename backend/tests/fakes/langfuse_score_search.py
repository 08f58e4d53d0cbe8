"""Score read endpoints of the fake Langfuse: GET /v3/scores (cursor) and GET /v2/scores (pages)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from starlette.datastructures import QueryParams

from tests.fakes.langfuse_model import Score, parse_iso
from tests.fakes.langfuse_query import (
    Condition,
    QueryError,
    apply_filter,
    decode_cursor,
    encode_cursor,
    matches,
    parse_filter,
    parse_groups,
    parse_int,
    parse_time,
    split_csv,
)
from tests.fakes.langfuse_render import DEPRECATION
from tests.fakes.langfuse_scores import render_v1, render_v3, v3_value
from tests.fakes.langfuse_store import LangfuseStore

_V3_LISTS: dict[str, Callable[[Score], Any]] = {
    "id": lambda s: s.id,
    "name": lambda s: s.name,
    "environment": lambda s: s.environment,
    "configId": lambda s: s.config_id,
    "queueId": lambda s: s.queue_id,
    "authorUserId": lambda s: s.author_user_id,
    "traceId": lambda s: s.trace_id,
    "sessionId": lambda s: s.session_id,
    "observationId": lambda s: s.observation_id,
    "experimentId": lambda s: s.dataset_run_id,
}


def _membership_check(getter: Callable[[Score], Any], wanted: list[str]) -> Callable[[Score], bool]:
    return lambda score: getter(score) in wanted


def _numeric_check(condition: Condition) -> Callable[[Score], bool]:
    return lambda score: matches(condition, score.numeric)


def _parse_value(data_type: str, raw: str) -> float | bool | str:
    if data_type == "BOOLEAN":
        if raw.lower() not in ("true", "false"):
            raise QueryError("BOOLEAN values must be true or false")
        return raw.lower() == "true"
    if data_type == "NUMERIC":
        try:
            number = float(raw)
        except ValueError as exc:
            raise QueryError("NUMERIC values must be numbers") from exc
        if not math.isfinite(number):
            raise QueryError("NUMERIC values must be finite")
        return number
    return raw


def _v3_value_filters(params: QueryParams, data_types: list[str]) -> list[Callable[[Score], bool]]:
    checks: list[Callable[[Score], bool]] = []
    if params.get("value"):
        if len(data_types) != 1 or data_types[0] not in ("NUMERIC", "BOOLEAN", "CATEGORICAL"):
            raise QueryError("value needs exactly one dataType of NUMERIC, BOOLEAN or CATEGORICAL")
        wanted = [_parse_value(data_types[0], raw) for raw in split_csv(params["value"])]
        checks.append(lambda s: v3_value(s) in wanted)
    for key, op in (("valueMin", ">="), ("valueMax", "<=")):
        if params.get(key):
            if data_types != ["NUMERIC"]:
                raise QueryError(f"{key} needs dataType=NUMERIC")
            bound = _parse_value("NUMERIC", params[key])
            checks.append(_numeric_check(Condition("number", key, op, bound, None)))
    return checks


def _check_subjects(params: QueryParams) -> None:
    given = {
        key for key in ("traceId", "sessionId", "observationId", "experimentId") if params.get(key)
    }
    if "observationId" in given and "traceId" not in given:
        raise QueryError("observationId needs traceId")
    if "sessionId" in given and len(given) > 1:
        raise QueryError("sessionId cannot be combined with traceId, observationId or experimentId")
    if "experimentId" in given and len(given) > 1:
        raise QueryError("experimentId cannot be combined with traceId, sessionId or observationId")


def list_scores_v3(store: LangfuseStore, project_id: str, params: QueryParams) -> dict[str, Any]:
    """GET /api/public/v3/scores."""
    limit = parse_int(params.get("limit"), "limit", default=50, minimum=1, maximum=100)
    groups = parse_groups(params.get("fields"), {"details", "subject", "annotation"}, set())
    _check_subjects(params)
    data_types = [part.upper() for part in split_csv(params.get("dataType"))]
    sources = [part.upper() for part in split_csv(params.get("source"))]
    checks: list[Callable[[Score], bool]] = []
    for key, getter in _V3_LISTS.items():
        wanted = split_csv(params.get(key))
        if wanted:
            checks.append(_membership_check(getter, wanted))
    if data_types:
        checks.append(lambda s: s.data_type in data_types)
    if sources:
        checks.append(lambda s: s.source in sources)
    checks += _v3_value_filters(params, data_types)
    since = parse_time(params.get("fromTimestamp"), "fromTimestamp")
    until = parse_time(params.get("toTimestamp"), "toTimestamp")
    if since:
        checks.append(lambda s: s.timestamp >= since)
    if until:
        checks.append(lambda s: s.timestamp < until)
    items = [score for score in store.scores() if all(check(score) for check in checks)]
    position = decode_cursor(params.get("cursor"))
    if position is not None:
        after = (parse_iso(str(position[0])), str(position[1]))
        items = [s for s in items if (s.timestamp, s.id) < after]
    page = items[:limit]
    meta: dict[str, Any] = {"limit": limit}
    if len(items) > limit:
        meta["cursor"] = encode_cursor([page[-1].timestamp.isoformat(), page[-1].id])
    return {"data": [render_v3(s, project_id, groups) for s in page], "meta": meta}


_V2_COLUMNS: dict[str, Callable[[Score], Any]] = {
    "id": lambda s: s.id,
    "name": lambda s: s.name,
    "value": lambda s: s.numeric,
    "stringValue": lambda s: s.string_value,
    "source": lambda s: s.source,
    "dataType": lambda s: s.data_type,
    "traceId": lambda s: s.trace_id,
    "sessionId": lambda s: s.session_id,
    "observationId": lambda s: s.observation_id,
    "comment": lambda s: s.comment,
    "environment": lambda s: s.environment,
    "timestamp": lambda s: s.timestamp,
    "configId": lambda s: s.config_id,
    "datasetRunId": lambda s: s.dataset_run_id,
    "queueId": lambda s: s.queue_id,
}


def _v2_column(score: Score, condition: Condition) -> Any:
    if condition.column == "metadata":
        metadata = score.metadata if isinstance(score.metadata, dict) else {}
        return metadata.get(condition.key or "")
    getter = _V2_COLUMNS.get(condition.column)
    if getter is None:
        raise QueryError(f"unknown filter column {condition.column!r}")
    return getter(score)


def _v2_conditions(params: QueryParams) -> list[Condition]:
    equal = ("name", "source", "configId", "sessionId", "datasetRunId", "traceId", "queueId")
    conditions = [
        Condition("string", key, "=", params[key], None) for key in equal if params.get(key)
    ]
    if params.get("dataType"):
        conditions.append(Condition("string", "dataType", "=", params["dataType"].upper(), None))
    for key, col in (("scoreIds", "id"), ("observationId", "observationId")):
        if params.get(key):
            conditions.append(
                Condition("stringOptions", col, "any of", split_csv(params[key]), None)
            )
    if params.getlist("environment"):
        envs = params.getlist("environment")
        conditions.append(Condition("stringOptions", "environment", "any of", envs, None))
    if params.get("value"):
        value = _parse_value("NUMERIC", params["value"])
        conditions.append(Condition("number", "value", params.get("operator") or "=", value, None))
    for key, operator in (("fromTimestamp", ">="), ("toTimestamp", "<")):
        if parse_time(params.get(key), key):
            conditions.append(Condition("datetime", "timestamp", operator, params[key], None))
    return conditions


def list_scores_v2(store: LangfuseStore, params: QueryParams) -> dict[str, Any]:
    """GET /api/public/v2/scores (deprecated in the spec; page-based, with trace fields)."""
    page = parse_int(params.get("page"), "page", default=1, minimum=1, maximum=10**6)
    limit = parse_int(params.get("limit"), "limit", default=50, minimum=1, maximum=100)
    groups = parse_groups(params.get("fields"), {"score", "trace"}, {"score", "trace"})
    user_id, tags = params.get("userId"), params.getlist("traceTags")
    if (user_id or tags) and "trace" not in groups:
        raise QueryError("userId and traceTags filters need the 'trace' field group")
    conditions = parse_filter(params.get("filter")) or []
    conditions += _v2_conditions(params)
    scores = apply_filter(conditions, store.scores(), _v2_column)
    traces = store.traces()
    if user_id:
        scores = [
            s for s in scores if s.trace_id in traces and traces[s.trace_id].user_id == user_id
        ]
    if tags:
        scores = [
            s for s in scores if s.trace_id in traces and set(tags) <= set(traces[s.trace_id].tags)
        ]
    chunk = scores[(page - 1) * limit : page * limit]
    with_trace = "trace" in groups
    data = [render_v1(s, traces.get(s.trace_id or ""), with_trace=with_trace) for s in chunk]
    meta = {
        "page": page,
        "limit": limit,
        "totalItems": len(scores),
        "totalPages": math.ceil(len(scores) / limit),
    }
    return {"data": data, "meta": meta, "_deprecation": DEPRECATION}
