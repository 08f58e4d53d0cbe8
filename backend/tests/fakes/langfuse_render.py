"""JSON shapes of observations and traces, as the Langfuse API spec defines them."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.langfuse_model import Observation, Score, Trace, iso, json_or_raw
from tests.fakes.langfuse_scores import render_v1

OBSERVATION_GROUPS = {
    "core",
    "basic",
    "time",
    "io",
    "metadata",
    "model",
    "usage",
    "prompt",
    "metrics",
    "trace_context",
}
TRACE_GROUPS = {"core", "io", "scores", "observations", "metrics"}
METADATA_LIMIT = 200


def _truncate(value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value)
    return text[:METADATA_LIMIT] if len(text) > METADATA_LIMIT else value


def render_observation_v2(
    obs: Observation, trace: Trace, project_id: str, groups: set[str], expand: set[str]
) -> dict[str, Any]:
    """ObservationV2 with the requested field groups (core is always there)."""
    data: dict[str, Any] = {
        "id": obs.id,
        "traceId": obs.trace_id,
        "startTime": iso(obs.start_time),
        "endTime": iso(obs.end_time),
        "projectId": project_id,
        "parentObservationId": obs.parent_observation_id,
        "type": obs.type,
        # required by the spec, null unless a model price matched (the fake has no price table)
        "modelId": None,
        "inputPrice": None,
        "outputPrice": None,
        "totalPrice": None,
    }
    if "basic" in groups:
        data |= {
            "name": obs.name,
            "level": obs.level,
            "statusMessage": obs.status_message,
            "version": obs.version,
            "environment": obs.environment,
            "bookmarked": False,
            "public": trace.public,
            "userId": obs.user_id,
            "sessionId": obs.session_id,
            "isRootObservation": obs.is_root,
        }
    if "time" in groups:
        data |= {
            "completionStartTime": iso(obs.completion_start_time),
            "createdAt": iso(obs.created_at),
            "updatedAt": iso(obs.created_at),
        }
    if "io" in groups:  # v2 returns input and output as the raw ingested strings
        data |= {"input": obs.input, "output": obs.output}
    if "metadata" in groups:
        data["metadata"] = {
            key: value if key in expand else _truncate(value) for key, value in obs.metadata.items()
        }
    if "model" in groups:
        data |= {
            "providedModelName": obs.model,
            "internalModelId": None,
            "modelParameters": obs.model_parameters,
        }
    if "usage" in groups:
        data |= {
            "usageDetails": obs.usage_details,
            "costDetails": obs.cost_details,
            "totalCost": obs.total_cost,
            "usagePricingTierName": None,
        }
    if "prompt" in groups:
        data |= {
            "promptId": None,
            "promptName": obs.prompt_name,
            "promptVersion": obs.prompt_version,
        }
    if "metrics" in groups:
        data |= {"latency": obs.latency, "timeToFirstToken": obs.time_to_first_token}
    if "trace_context" in groups:
        data |= {"tags": trace.tags, "release": trace.release, "traceName": trace.name}
    return data


def render_observation_view(obs: Observation) -> dict[str, Any]:
    """The v1 ObservationsView used inside GET /traces/{traceId}."""
    usage = obs.usage_details
    return {
        "id": obs.id,
        "traceId": obs.trace_id,
        "type": obs.type,
        "name": obs.name,
        "startTime": iso(obs.start_time),
        "endTime": iso(obs.end_time),
        "completionStartTime": iso(obs.completion_start_time),
        "model": obs.model,
        "modelParameters": obs.model_parameters,
        "input": json_or_raw(obs.input),
        "output": json_or_raw(obs.output),
        "version": obs.version,
        "metadata": obs.metadata,
        "usage": {
            "input": usage.get("input", 0),
            "output": usage.get("output", 0),
            "total": usage.get("total", 0),
            "unit": "TOKENS",
        },
        "level": obs.level,
        "statusMessage": obs.status_message,
        "parentObservationId": obs.parent_observation_id,
        "promptId": None,
        "promptName": obs.prompt_name,
        "promptVersion": obs.prompt_version,
        "usageDetails": usage,
        "costDetails": obs.cost_details,
        "environment": obs.environment,
        "modelId": None,
        "inputPrice": None,
        "outputPrice": None,
        "totalPrice": None,
        "calculatedInputCost": obs.cost_details.get("input"),
        "calculatedOutputCost": obs.cost_details.get("output"),
        "calculatedTotalCost": obs.total_cost,
        "latency": obs.latency,
        "timeToFirstToken": obs.time_to_first_token,
    }


DEPRECATION = {
    "message": "Deprecated in Langfuse v4; read traces via GET /api/public/v2/observations.",
    "replacement": "GET /api/public/v2/observations",
}


def render_trace(
    trace: Trace, project_id: str, scores: list[Score], groups: set[str], *, full: bool
) -> dict[str, Any]:
    """TraceWithDetails (ids only) or TraceWithFullDetails (nested observations and scores)."""
    data: dict[str, Any] = {
        "id": trace.id,
        "timestamp": iso(trace.timestamp),
        "name": trace.name,
        "sessionId": trace.session_id,
        "release": trace.release,
        "version": trace.version,
        "userId": trace.user_id,
        "tags": trace.tags,
        "public": trace.public,
        "environment": trace.environment,
        "htmlPath": f"/project/{project_id}/traces/{trace.id}",
        "input": trace.input if "io" in groups else None,
        "output": trace.output if "io" in groups else None,
        "metadata": trace.metadata if "io" in groups else None,
        "latency": trace.latency if "metrics" in groups else -1,
        "totalCost": trace.total_cost if "metrics" in groups else -1,
    }
    with_obs = "observations" in groups
    with_scores = "scores" in groups
    if full:
        data["observations"] = (
            [render_observation_view(obs) for obs in trace.observations] if with_obs else []
        )
        data["scores"] = [render_v1(score) for score in scores] if with_scores else []
        data["_deprecation"] = DEPRECATION
    else:
        data["observations"] = [obs.id for obs in trace.observations] if with_obs else []
        data["scores"] = [score.id for score in scores] if with_scores else []
    return data
