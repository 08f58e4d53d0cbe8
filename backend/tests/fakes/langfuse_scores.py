"""Score creation rules and the v1/v2/v3 score shapes of the Langfuse API."""

from __future__ import annotations

import uuid
from typing import Any

from tests.fakes.langfuse_model import Score, Trace, iso, now, parse_iso

DATA_TYPES = ("NUMERIC", "BOOLEAN", "CATEGORICAL", "CORRECTION", "TEXT")
CREATE_SOURCES = ("API", "ANNOTATION")


class ScoreError(ValueError):
    """The score request breaks a rule of POST /api/public/scores (answered with 400)."""


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ScoreError(f"{key} must be a string")
    return value


def _typed_value(data_type: str, value: Any) -> tuple[float, str | None]:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if data_type == "NUMERIC":
        if not is_number:
            raise ScoreError("NUMERIC scores need a numeric value")
        return float(value), None
    if data_type == "BOOLEAN":
        if not is_number or value not in (0, 1):
            raise ScoreError("BOOLEAN scores need the value 1 or 0")
        return float(value), "True" if value == 1 else "False"
    if not isinstance(value, str):
        raise ScoreError(f"{data_type} scores need a string value")
    if data_type == "TEXT" and not 1 <= len(value) <= 500:
        raise ScoreError("TEXT scores need 1 to 500 characters")
    return 0.0, value


def score_from_request(body: Any, existing: Score | None) -> Score:
    """Validate one CreateScoreRequest; an existing score with the same id is overwritten."""
    if not isinstance(body, dict):
        raise ScoreError("a score must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ScoreError("name is required")
    if "value" not in body or body["value"] is None:
        raise ScoreError("value is required")
    data_type = str(body.get("dataType") or "NUMERIC").upper()
    if data_type not in DATA_TYPES:
        raise ScoreError(f"dataType must be one of {', '.join(DATA_TYPES)}")
    source = str(body.get("source") or "API").upper()
    if source not in CREATE_SOURCES:
        raise ScoreError("source must be API or ANNOTATION (EVAL is reserved)")
    config_id = _optional_str(body, "configId")
    if source == "ANNOTATION" and not config_id and data_type != "CORRECTION":
        raise ScoreError("ANNOTATION scores need a configId")
    trace_id = _optional_str(body, "traceId")
    session_id = _optional_str(body, "sessionId")
    observation_id = _optional_str(body, "observationId")
    dataset_run_id = _optional_str(body, "datasetRunId")
    if not (trace_id or session_id or dataset_run_id):
        raise ScoreError("a score needs a traceId, sessionId or datasetRunId")
    if observation_id and not trace_id:
        raise ScoreError("observationId needs a traceId")
    numeric, string_value = _typed_value(data_type, body["value"])
    timestamp = body.get("timestamp")
    stamp = now()
    return Score(
        id=_optional_str(body, "id") or str(uuid.uuid4()),
        name=name,
        data_type=data_type,
        numeric=numeric,
        string_value=string_value,
        source=source,
        trace_id=trace_id,
        session_id=session_id,
        observation_id=observation_id,
        dataset_run_id=dataset_run_id,
        comment=_optional_str(body, "comment"),
        metadata=body.get("metadata"),
        config_id=config_id,
        queue_id=_optional_str(body, "queueId"),
        environment=_optional_str(body, "environment") or "default",
        timestamp=parse_iso(timestamp) if isinstance(timestamp, str) else stamp,
        created_at=existing.created_at if existing else stamp,
        updated_at=stamp,
    )


def _subject(score: Score) -> dict[str, Any]:
    if score.observation_id:
        return {"kind": "observation", "id": score.observation_id, "traceId": score.trace_id}
    if score.trace_id:
        return {"kind": "trace", "id": score.trace_id}
    if score.session_id:
        return {"kind": "session", "id": score.session_id}
    return {"kind": "experiment", "id": score.dataset_run_id}


def v3_value(score: Score) -> float | bool | str:
    """The polymorphic `value` of GET /v3/scores."""
    if score.data_type == "NUMERIC":
        return score.numeric
    if score.data_type == "BOOLEAN":
        return score.numeric == 1
    return score.string_value or ""


def render_v3(score: Score, project_id: str, groups: set[str]) -> dict[str, Any]:
    """ScoreV3 with the requested field groups (details, subject, annotation)."""
    data: dict[str, Any] = {
        "id": score.id,
        "projectId": project_id,
        "name": score.name,
        "value": v3_value(score),
        "dataType": score.data_type,
        "source": score.source,
        "timestamp": iso(score.timestamp),
        "environment": score.environment,
        "createdAt": iso(score.created_at),
        "updatedAt": iso(score.updated_at),
    }
    if "details" in groups:
        data |= {"comment": score.comment, "configId": score.config_id, "metadata": score.metadata}
    if "subject" in groups:
        data["subject"] = _subject(score)
    if "annotation" in groups:
        data |= {"authorUserId": score.author_user_id, "queueId": score.queue_id}
    return data


def render_v1(score: Score, trace: Trace | None = None, with_trace: bool = False) -> dict[str, Any]:
    """The v1/v2 score shape (value is numeric, stringValue for non-numeric types)."""
    data: dict[str, Any] = {
        "id": score.id,
        "traceId": score.trace_id,
        "sessionId": score.session_id,
        "observationId": score.observation_id,
        "datasetRunId": score.dataset_run_id,
        "name": score.name,
        "source": score.source,
        "timestamp": iso(score.timestamp),
        "createdAt": iso(score.created_at),
        "updatedAt": iso(score.updated_at),
        "authorUserId": score.author_user_id,
        "comment": score.comment,
        "metadata": score.metadata,
        "configId": score.config_id,
        "queueId": score.queue_id,
        "environment": score.environment,
        "dataType": score.data_type,
    }
    if score.data_type != "TEXT":
        data["value"] = score.numeric
    if score.string_value is not None:
        data["stringValue"] = score.string_value
    if with_trace:
        data["trace"] = (
            {
                "userId": trace.user_id,
                "tags": trace.tags,
                "environment": trace.environment,
                "sessionId": trace.session_id,
            }
            if trace
            else None
        )
    return data
