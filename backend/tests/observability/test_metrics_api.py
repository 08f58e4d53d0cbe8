"""Prometheus metrics through the API: values after real agent runs, route labels, the token."""

import uuid
from typing import Any

import pytest

from app.core.config import settings
from tests.observability.helpers import Samples, scrape, total, value
from tests.utils import API, create_item, create_user_and_login

MODEL = "offline-demo"


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one series grew between two scrapes."""
    return value(after, name, **labels) - value(before, name, **labels)


async def test_successful_run_counts_once_with_its_tokens(client: Any) -> None:
    headers, user = await create_user_and_login(client)
    await create_item(user.id, title="Blue lamp")
    before = await scrape(client)
    response = await client.post(
        f"{API}/agent/run", json={"message": "show my items"}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    after = await scrape(client)

    assert delta(before, after, "agent_invocations_total") == 1
    assert delta(before, after, "agent_invocations_by_status_total", status="completed") == 1
    for outcome in ("failed", "timeout", "cancelled"):
        assert delta(before, after, "agent_invocations_by_status_total", status=outcome) == 0
    assert body["prompt_tokens"] > 0 and body["completion_tokens"] > 0
    assert delta(before, after, "agent_tokens_total", type="prompt") == body["prompt_tokens"]
    assert (
        delta(before, after, "agent_tokens_total", type="completion") == body["completion_tokens"]
    )
    assert delta(before, after, "agent_prompt_tokens_count") == 1
    assert delta(before, after, "agent_prompt_tokens_sum") == body["prompt_tokens"]
    assert delta(before, after, "agent_completion_tokens_sum") == body["completion_tokens"]
    assert delta(before, after, "agent_execution_duration_seconds_count") == 1
    assert delta(before, after, "agent_execution_duration_seconds_sum") == pytest.approx(
        body["latency_ms"] / 1000, abs=0.002
    )
    assert value(after, "agent_active_executions") == 0

    # Every LLM call of the run is counted, and their tokens add up to the run's.
    calls = delta(before, after, "llm_requests_total", model=MODEL, status="success")
    assert calls >= 2  # planner + executor(s)
    assert delta(before, after, "llm_requests_total", model=MODEL, status="error") == 0
    assert delta(before, after, "llm_request_duration_seconds_count", model=MODEL) == calls
    assert (
        delta(before, after, "llm_tokens_total", model=MODEL, type="prompt")
        == body["prompt_tokens"]
    )
    assert (
        delta(before, after, "llm_tokens_total", model=MODEL, type="completion")
        == body["completion_tokens"]
    )
    assert ("llm_cost_dollars_total", frozenset({("model", MODEL)})) in after  # offline: $0
    assert delta(before, after, "llm_cost_dollars_total", model=MODEL) == 0
    assert (
        delta(before, after, "tool_invocations_total", tool="lookup_user_items", status="success")
        == 1
    )
    assert (
        delta(
            before,
            after,
            "http_requests_total",
            method="POST",
            route="/api/v1/agent/run",
            status="200",
        )
        == 1
    )


async def test_failing_tool_is_counted_as_a_tool_error(client: Any) -> None:
    headers, _ = await create_user_and_login(client)
    before = await scrape(client)
    response = await client.post(
        f"{API}/agent/run", json={"message": "who is nobody-here@example.com"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert [call["ok"] for call in response.json()["tool_calls"]] == [False]
    after = await scrape(client)
    labels = {"tool": "lookup_user_by_email"}
    assert delta(before, after, "tool_invocations_total", status="error", **labels) == 1
    assert delta(before, after, "tool_invocations_total", status="success", **labels) == 0
    assert delta(before, after, "agent_invocations_by_status_total", status="completed") == 1


async def test_timed_out_run_is_counted_as_timeout(
    client: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers, _ = await create_user_and_login(client)
    monkeypatch.setattr(settings, "AGENT_RUN_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(app.state.runs.agent.models.primary, "latency_ms", 1000)
    before = await scrape(client)
    response = await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
    assert response.status_code == 504, response.text
    after = await scrape(client)
    assert delta(before, after, "agent_invocations_total") == 1
    assert delta(before, after, "agent_invocations_by_status_total", status="timeout") == 1
    assert delta(before, after, "agent_invocations_by_status_total", status="completed") == 0
    assert value(after, "agent_active_executions") == 0


async def test_streamed_run_records_time_to_first_token(client: Any) -> None:
    headers, user = await create_user_and_login(client)
    await create_item(user.id, title="Vase")
    before = await scrape(client)
    response = await client.post(
        f"{API}/agent/run/stream", json={"message": "show my items"}, headers=headers
    )
    assert response.status_code == 200
    assert "run_completed" in response.text
    after = await scrape(client)
    calls = delta(before, after, "llm_requests_total", model=MODEL, status="success")
    assert calls >= 2
    # Every executor call streams (at least one chunk, so a first-token time); the planner's
    # structured call doesn't stream.
    streamed = calls - 1
    assert delta(before, after, "llm_time_to_first_token_seconds_count", model=MODEL) == streamed
    assert delta(before, after, "agent_invocations_by_status_total", status="completed") == 1


async def test_http_metrics_label_route_templates_not_raw_paths(
    client: Any, normal_user_token_headers: dict[str, str]
) -> None:
    item_id = uuid.uuid4()
    before = await scrape(client)
    response = await client.get(f"{API}/items/{item_id}", headers=normal_user_token_headers)
    assert response.status_code == 404
    response = await client.get(f"{API}/no-such-route-{item_id}")
    assert response.status_code == 404
    after = await scrape(client)
    labels = {"method": "GET", "route": "/api/v1/items/{id}", "status": "404"}
    assert delta(before, after, "http_requests_total", **labels) == 1
    # The unknown path is counted too, under "unmatched" (or the SPA's catch-all template).
    counted = total(after, "http_requests_total", method="GET", status="404") - total(
        before, "http_requests_total", method="GET", status="404"
    )
    assert counted == 2
    assert (
        value(after, "http_request_duration_seconds_count", method="GET", route=labels["route"])
        >= 1
    )
    assert not [key for key in after if any(str(item_id) in v for _, v in key[1])]


async def test_unknown_methods_share_one_label(client: Any) -> None:
    before = await scrape(client)
    response = await client.request("BREW", f"{API}/utils/health-check/")
    assert response.status_code == 405
    after = await scrape(client)
    assert (
        total(after, "http_requests_total", method="OTHER")
        - total(before, "http_requests_total", method="OTHER")
        == 1
    )
    assert not [key for key in after if ("method", "BREW") in key[1]]


async def test_metrics_bearer_token(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "METRICS_BEARER_TOKEN", "scrape-secret")
    missing = await client.get("/metrics")
    assert missing.status_code == 401 and missing.json()["detail"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    samples = await scrape(client, {"Authorization": "Bearer scrape-secret"})
    assert total(samples, "app_info") == 1


async def test_static_series(client: Any) -> None:
    samples = await scrape(client)
    infos = [labels for (name, labels) in samples if name == "app_info"]
    assert len(infos) == 1 and ("env", "test") in infos[0]
    assert dict(infos[0])["version"]
    assert value(samples, "agent_latency_slo_seconds") == settings.AGENT_LATENCY_SLO_SECONDS
    for outcome in ("completed", "failed", "timeout", "cancelled"):
        assert ("agent_invocations_by_status_total", frozenset({("status", outcome)})) in samples
