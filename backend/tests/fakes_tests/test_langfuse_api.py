"""The fake Langfuse's HTTP contract without the SDK: OTLP/JSON, filters, validation, faults."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fakes.langfuse import LangfuseFake

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _value(raw: Any) -> dict[str, Any]:
    if isinstance(raw, list):
        return {"arrayValue": {"values": [_value(item) for item in raw]}}
    return {"stringValue": raw}


def otlp_span(trace_id: str, name: str, start: datetime, **attributes: Any) -> dict[str, Any]:
    """One OTLP/JSON span (hex ids, as the OTLP JSON encoding writes them)."""
    start_ns = int(start.timestamp() * 1e9)
    return {
        "traceId": trace_id,
        "spanId": uuid.uuid4().hex[:16],
        "name": name,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + 250_000_000),
        "attributes": [{"key": k, "value": _value(v)} for k, v in attributes.items()],
    }


@pytest.fixture
def api(langfuse_fake: LangfuseFake) -> Iterator[httpx.Client]:
    """An HTTP client for the fake, authenticated with its default keys."""
    with httpx.Client(base_url=langfuse_fake.url, headers=langfuse_fake.auth_header()) as client:
        yield client


def post_spans(api: httpx.Client, spans: list[dict[str, Any]]) -> httpx.Response:
    """POST an OTLP/JSON export request."""
    scope_spans = [{"scope": {"name": "t"}, "spans": spans}]
    body = {"resourceSpans": [{"resource": {}, "scopeSpans": scope_spans}]}
    return api.post("/api/public/otel/v1/traces", json=body)


def get(api: httpx.Client, path: str, **params: Any) -> httpx.Response:
    """GET with query parameters."""
    return api.get(path, params=params)


def test_otlp_json_and_start_time_window(api: httpx.Client) -> None:
    spans = [
        otlp_span(
            uuid.uuid4().hex,
            f"run-{hours}",
            T0 + timedelta(hours=hours),
            **{
                "langfuse.trace.name": "agent_run",
                "user.id": "alice" if hours % 2 else "bob",
                "langfuse.observation.input": json.dumps({"hour": hours}),
            },
        )
        for hours in range(6)
    ]
    assert post_spans(api, spans).json() == {}

    window = get(
        api,
        "/api/public/v2/observations",
        fromStartTime=(T0 + timedelta(hours=1)).isoformat(),
        toStartTime=(T0 + timedelta(hours=4)).isoformat(),
        fields="core,basic,io",
    ).json()
    assert [obs["name"] for obs in window["data"]] == ["run-3", "run-2", "run-1"]
    assert window["data"][0]["input"] == '{"hour": 3}'
    alice = get(api, "/api/public/v2/observations", userId="alice").json()
    assert sorted(obs["name"] for obs in alice["data"]) == ["run-1", "run-3", "run-5"]
    traces = get(api, "/api/public/traces", userId="bob", orderBy="timestamp.asc").json()
    assert [t["input"] for t in traces["data"]] == [{"hour": 0}, {"hour": 2}, {"hour": 4}]


def test_filter_json_on_usage_and_metadata(api: httpx.Client) -> None:
    trace_id = uuid.uuid4().hex
    post_spans(
        api,
        [
            otlp_span(
                trace_id,
                "cheap",
                T0,
                **{
                    "langfuse.observation.type": "generation",
                    "langfuse.observation.usage_details": json.dumps({"input": 10, "output": 2}),
                    "langfuse.observation.metadata.node": json.dumps("planner"),
                },
            ),
            otlp_span(
                trace_id,
                "big",
                T0,
                **{
                    "langfuse.observation.type": "generation",
                    "langfuse.observation.usage_details": json.dumps({"input": 900, "output": 100}),
                    "langfuse.observation.metadata.node": json.dumps("executor"),
                },
            ),
        ],
    )
    conditions = [
        {"type": "number", "column": "totalTokens", "operator": ">=", "value": 100},
        {
            "type": "stringObject",
            "column": "metadata",
            "key": "node",
            "operator": "=",
            "value": "executor",
        },
    ]
    found = get(api, "/api/public/v2/observations", filter=json.dumps(conditions)).json()
    assert [obs["name"] for obs in found["data"]] == ["big"]
    bad = [{"type": "string", "column": "nonsense", "operator": "=", "value": "x"}]
    assert get(api, "/api/public/v2/observations", filter=json.dumps(bad)).status_code == 400


def test_bad_requests_get_400(api: httpx.Client) -> None:
    assert get(api, "/api/public/v2/observations", limit=1001).status_code == 400
    assert get(api, "/api/public/v2/observations", cursor="%%%").status_code == 400
    assert get(api, "/api/public/v2/observations", parseIoAsJson="true").status_code == 400
    assert get(api, "/api/public/v3/scores", limit=101).status_code == 400
    assert get(api, "/api/public/v3/scores", fields="nope").status_code == 400
    assert get(api, "/api/public/v3/scores", observationId="abc").status_code == 400
    assert get(api, "/api/public/v3/scores", value="1").status_code == 400
    assert get(api, "/api/public/traces/0123").status_code == 404
    garbage = api.post(
        "/api/public/otel/v1/traces",
        content=b"\x00not protobuf",
        headers={"content-type": "application/x-protobuf"},
    )
    assert garbage.status_code == 400


def test_score_rules_and_batch_results(api: httpx.Client) -> None:
    url = "/api/public/scores"
    one = api.post(url, json={"name": "ok", "value": 1, "traceId": "t1", "dataType": "BOOLEAN"})
    assert one.status_code == 200 and one.json()["id"]
    assert api.post(url, json={"name": "no-subject", "value": 1}).status_code == 400
    assert api.post(url, json={"name": "n", "value": "high", "traceId": "t1"}).status_code == 400
    batch = [
        {"id": "s1", "name": "relevancy", "value": 0.5, "traceId": "t1"},
        {
            "id": "s2",
            "name": "tone",
            "value": "friendly",
            "traceId": "t1",
            "dataType": "CATEGORICAL",
        },
        {"id": "s3", "name": "bad", "value": 2, "traceId": "t1", "dataType": "BOOLEAN"},
    ]
    answer = api.post(url, json=batch)
    assert answer.status_code == 207
    assert answer.json()["accepted"] == 2 and answer.json()["rejected"] == 1
    values = {s["name"]: s["value"] for s in get(api, "/api/public/v3/scores").json()["data"]}
    assert values == {"ok": True, "relevancy": 0.5, "tone": "friendly"}
    numeric = get(api, "/api/public/v3/scores", dataType="NUMERIC", valueMin=0.4).json()
    assert [s["id"] for s in numeric["data"]] == ["s1"]
    legacy = get(api, "/api/public/v2/scores", name="tone").json()
    assert legacy["data"][0]["stringValue"] == "friendly"
    assert legacy["meta"]["totalItems"] == 1


def test_v3_scores_cursor_pages(api: httpx.Client) -> None:
    for n in range(105):
        body = {"id": f"score-{n:03d}", "name": "m", "value": n / 105, "traceId": f"trace-{n}"}
        body["timestamp"] = (T0 + timedelta(seconds=n)).isoformat()
        assert api.post("/api/public/scores", json=body).status_code == 200
    first = get(api, "/api/public/v3/scores", limit=100).json()
    assert len(first["data"]) == 100 and first["meta"]["cursor"]
    assert first["data"][0]["id"] == "score-104"  # newest first
    rest = get(api, "/api/public/v3/scores", limit=100, cursor=first["meta"]["cursor"]).json()
    assert [s["id"] for s in rest["data"]] == [f"score-{n:03d}" for n in range(4, -1, -1)]
    assert "cursor" not in rest["meta"]


def test_fault_injection(api: httpx.Client, langfuse_fake: LangfuseFake) -> None:
    langfuse_fake.faults.fail_next(2, status=503, path_prefix="/api/public/v3")
    statuses = [get(api, "/api/public/v3/scores").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert get(api, "/api/public/traces").status_code == 200
    langfuse_fake.faults.latency = 0.3
    started = time.monotonic()
    assert get(api, "/api/public/health").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_trace_deletion(api: httpx.Client, langfuse_fake: LangfuseFake) -> None:
    kept, gone, other = (uuid.uuid4().hex for _ in range(3))
    spans = [otlp_span(t, f"span-{t[:4]}", T0) for t in (kept, gone, other)]
    assert post_spans(api, spans).status_code == 200
    score = {"traceId": gone, "name": "quality", "value": 1.0}
    assert api.post("/api/public/scores", json=score).status_code == 200

    many = api.request("DELETE", "/api/public/traces", json={"traceIds": [gone, "nope"]})
    assert many.status_code == 200 and many.json() == {"message": "Traces deleted successfully"}
    assert langfuse_fake.trace(gone) is None and langfuse_fake.scores(gone) == []
    assert langfuse_fake.trace(kept) is not None
    assert api.get(f"/api/public/traces/{gone}").status_code == 404

    one = api.delete(f"/api/public/traces/{other}")
    assert one.status_code == 200 and langfuse_fake.trace(other) is None
    assert api.delete(f"/api/public/traces/{other}").status_code == 404
    bad = api.request("DELETE", "/api/public/traces", json={"traceIds": "x"})
    assert bad.status_code == 400
    assert langfuse_fake.deleted_trace_ids == [gone, "nope", other, other]
    unauthenticated = httpx.request(
        "DELETE", f"{langfuse_fake.url}/api/public/traces", json={"traceIds": [kept]}
    )
    assert unauthenticated.status_code == 401 and langfuse_fake.trace(kept) is not None
