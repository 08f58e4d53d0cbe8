"""Prometheus metrics: agent runs, LLM calls, tools, HTTP; `GET /metrics`; a LangChain callback.

Multiprocess mode (several uvicorn workers) is chosen by prometheus_client at import time from
the `PROMETHEUS_MULTIPROC_DIR` environment variable: the launch script must create and empty
that directory before the workers start. Each scrape then aggregates every worker's files.
"""

import os
import secrets
import time
from importlib import metadata
from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, Response, status
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, GenerationChunk, LLMResult
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from app.core.config import settings
from app.core.pricing import cost_usd

# Log-scale buckets from 25 ms to 60 s: LLM calls and agent runs span three orders of magnitude.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
HTTP_BUCKETS = (0.005, 0.01, *LATENCY_BUCKETS)
TOKEN_BUCKETS = (10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000)

RUN_STATUSES = ("completed", "failed", "timeout", "cancelled", "blocked")
# Our run statuses (app.models.agent.RunStatus) -> the dashboard's four outcomes.
# `awaiting_approval` ends this run's work normally; the approval continues as a new run.
_STATUS_MAP = {
    "success": "completed",
    "completed": "completed",
    "awaiting_approval": "completed",
    "error": "failed",
    "failed": "failed",
    "timeout": "timeout",
    "cancelled": "cancelled",
    "interrupted": "cancelled",
    "blocked": "blocked",
}

AGENT_INVOCATIONS = Counter("agent_invocations", "Agent runs started.")
AGENT_INVOCATIONS_BY_STATUS = Counter(
    "agent_invocations_by_status", "Agent runs finished, by outcome.", ["status"]
)
AGENT_TOKENS = Counter("agent_tokens", "Tokens used by agent runs.", ["type"])
AGENT_DURATION = Histogram(
    "agent_execution_duration_seconds", "Wall time of an agent run.", buckets=LATENCY_BUCKETS
)
AGENT_PROMPT_TOKENS = Histogram(
    "agent_prompt_tokens", "Prompt tokens per agent run.", buckets=TOKEN_BUCKETS
)
AGENT_COMPLETION_TOKENS = Histogram(
    "agent_completion_tokens", "Completion tokens per agent run.", buckets=TOKEN_BUCKETS
)
AGENT_ACTIVE = Gauge(
    "agent_active_executions", "Agent runs in progress.", multiprocess_mode="livesum"
)
AGENT_LATENCY_SLO = Gauge(
    "agent_latency_slo_seconds",
    "Configured p95 latency objective for agent runs (AGENT_LATENCY_SLO_SECONDS).",
    multiprocess_mode="max",
)
# A gauge, not `Info`: `Info` does not work in multiprocess mode.
APP_INFO = Gauge(
    "app_info", "Application version and environment.", ["version", "env"], multiprocess_mode="max"
)

LLM_REQUESTS = Counter("llm_requests", "LLM calls, by model and outcome.", ["model", "status"])
LLM_DURATION = Histogram(
    "llm_request_duration_seconds", "LLM call latency.", ["model"], buckets=LATENCY_BUCKETS
)
LLM_TTFT = Histogram(
    "llm_time_to_first_token_seconds",
    "Time to the first streamed token of an LLM call.",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
LLM_ERRORS = Counter("llm_errors", "Failed LLM calls, by error type.", ["model", "error_type"])
LLM_TOKENS = Counter("llm_tokens", "Tokens of LLM calls, by model.", ["model", "type"])
LLM_COST = Counter(
    "llm_cost_dollars", "Estimated LLM cost in USD (app/core/pricing.py).", ["model"]
)
LLM_UNPRICED = Counter(
    "llm_unpriced_calls", "LLM calls of models without a known price (cost unknown).", ["model"]
)
LLM_FALLBACK = Counter(
    "llm_fallback",
    "Model calls answered by a later model of the chain (reason: fallback, breaker_open, timeout).",
    ["from_model", "to_model", "reason"],
)
LLM_BREAKER_STATE = Gauge(
    "llm_breaker_state",
    "Circuit breaker of a model: 0 closed, 1 half-open, 2 open (as this process saw it last).",
    ["provider", "model"],
    multiprocess_mode="livemax",
)
AGENT_DEGRADED_RUNS = Counter(
    "agent_degraded_runs",
    "Agent runs answered in degraded mode (a fallback model answered), by reason.",
    ["reason"],
)
DEGRADED_REASONS = ("fallback", "breaker_open", "timeout")
TOOL_INVOCATIONS = Counter(
    "tool_invocations", "Tool calls, by tool and outcome.", ["tool", "status"]
)

HTTP_REQUESTS = Counter(
    "http_requests", "HTTP requests, by route template.", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency (streams: until the last byte).",
    ["method", "route"],
    buckets=HTTP_BUCKETS,
)
RATE_LIMIT_REJECTIONS = Counter(
    "rate_limit_rejections",
    "Requests refused by a rate limit or budget (reason: limit, redis_unavailable, budget name).",
    ["scope", "reason"],
)
RATE_LIMIT_BACKEND_ERRORS = Counter(
    "rate_limit_backend_errors",
    "Rate-limit checks that could not reach Redis (policy: open = allowed, closed = 503).",
    ["scope", "policy"],
)
MCP_SERVER_UP = Gauge(
    "mcp_server_up",
    "1 while this process is connected to the MCP server, 0 while its tools are left out.",
    ["server"],
    multiprocess_mode="livemin",
)
MCP_SERVER_FAILURES = Counter(
    "mcp_server_failures", "MCP server connections that failed or dropped.", ["server"]
)
MCP_TOOL_CALLS = Counter(
    "mcp_tool_calls", "MCP tool calls, by server, tool and outcome.", ["server", "tool", "status"]
)
GUARDRAIL_TRIGGERED = Counter(
    "agent_guardrail_triggered",
    "Guardrail rules that triggered (stage: input = blocked, tool_output/output = redacted).",
    ["rule", "stage"],
)


def _app_version() -> str:
    try:
        return metadata.version("app")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def init_metrics() -> None:
    """Set the static series and create the outcome series at 0 so rates exist before events."""
    APP_INFO.labels(version=_app_version(), env=settings.APP_ENV).set(1)
    AGENT_LATENCY_SLO.set(settings.AGENT_LATENCY_SLO_SECONDS)
    for outcome in RUN_STATUSES:
        AGENT_INVOCATIONS_BY_STATUS.labels(status=outcome)
    for kind in ("prompt", "completion"):
        AGENT_TOKENS.labels(type=kind)
    # The configured models' series too: a series born at its first event hides that event
    # from rate() (Prometheus sees no earlier sample to compare with).
    chain = settings.model_chain
    for spec in chain:
        _init_model_series(spec.model)
        LLM_BREAKER_STATE.labels(provider=spec.provider, model=spec.model).set(0)
    for reason in DEGRADED_REASONS:
        AGENT_DEGRADED_RUNS.labels(reason=reason)
        for fallback in chain[1:]:
            LLM_FALLBACK.labels(from_model=chain[0].model, to_model=fallback.model, reason=reason)


def _init_model_series(model: str) -> None:
    for outcome in ("success", "error"):
        LLM_REQUESTS.labels(model=model, status=outcome)
    for kind in ("prompt", "completion"):
        LLM_TOKENS.labels(model=model, type=kind)
    LLM_DURATION.labels(model=model)
    LLM_TTFT.labels(model=model)
    LLM_COST.labels(model=model)


def shutdown_metrics() -> None:
    """Drop this worker's live gauges (multiprocess mode) when it stops."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


# --- agent runs (called by app.agents.service) ---


def run_status_label(run_status: str) -> str:
    """Map a run status to one of completed/failed/timeout/cancelled/blocked."""
    return _STATUS_MAP.get(str(run_status), "failed")


def run_started() -> None:
    """Count a started run and mark it active."""
    AGENT_INVOCATIONS.inc()
    AGENT_ACTIVE.inc()


def run_finished(
    status: str, duration_s: float, prompt_tokens: int, completion_tokens: int
) -> None:
    """Record a finished run (call exactly once per `run_started`)."""
    AGENT_ACTIVE.dec()
    AGENT_INVOCATIONS_BY_STATUS.labels(status=run_status_label(status)).inc()
    AGENT_DURATION.observe(max(duration_s, 0.0))
    AGENT_PROMPT_TOKENS.observe(max(prompt_tokens, 0))
    AGENT_COMPLETION_TOKENS.observe(max(completion_tokens, 0))
    AGENT_TOKENS.labels(type="prompt").inc(max(prompt_tokens, 0))
    AGENT_TOKENS.labels(type="completion").inc(max(completion_tokens, 0))


def fallback_used(from_model: str, to_model: str, reason: str) -> None:
    """Count a model call answered by `to_model` after `from_model` failed or was skipped."""
    LLM_FALLBACK.labels(from_model=from_model, to_model=to_model, reason=reason).inc()


def breaker_state(provider: str, model: str, state: int) -> None:
    """Set a model's breaker gauge (0 closed, 1 half-open, 2 open)."""
    LLM_BREAKER_STATE.labels(provider=provider, model=model).set(state)


def degraded_run(reason: str) -> None:
    """Count a run that finished in degraded mode."""
    AGENT_DEGRADED_RUNS.labels(reason=reason).inc()


def record_rate_limit_rejection(scope: str, reason: str = "limit") -> None:
    """Count a request refused by a limit (`scope`: e.g. `agent_run`, `login`, `budget`)."""
    RATE_LIMIT_REJECTIONS.labels(scope=scope, reason=reason).inc()


def guardrail_triggered(rule: str, stage: str) -> None:
    """Count one guardrail rule that blocked an input or redacted an output."""
    GUARDRAIL_TRIGGERED.labels(rule=rule, stage=stage).inc()


# --- cost ---


def llm_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Estimated USD cost of one call; None when the model has no known price."""
    return cost_usd(model, prompt_tokens, completion_tokens)


# --- LangChain callback: LLM and tool metrics ---


def _model_name(
    serialized: dict[str, Any] | None, metadata_: dict[str, Any] | None, kwargs: dict[str, Any]
) -> str:
    params = kwargs.get("invocation_params") or {}
    for value in (
        (metadata_ or {}).get("ls_model_name"),
        params.get("model"),
        params.get("model_name"),
        params.get("deployment_name"),
        (serialized or {}).get("name"),
    ):
        if isinstance(value, str) and value:
            return value
    return "unknown"


def _usage(response: LLMResult) -> tuple[int, int]:
    """Prompt/completion tokens from `usage_metadata` or, failing that, `llm_output`."""
    prompt = completion = 0
    for generations in response.generations:
        for generation in generations:
            if isinstance(generation, ChatGeneration):
                usage = getattr(generation.message, "usage_metadata", None)
                if usage:
                    prompt += int(usage.get("input_tokens", 0))
                    completion += int(usage.get("output_tokens", 0))
    if prompt or completion:
        return prompt, completion
    token_usage = (response.llm_output or {}).get("token_usage") or {}
    return int(token_usage.get("prompt_tokens", 0)), int(token_usage.get("completion_tokens", 0))


def _tool_failed(output: Any) -> bool:
    """A ToolMessage with status `error` (every tool, ours and MCP's, reports failure so)."""
    return isinstance(output, ToolMessage) and output.status == "error"


class MetricsCallbackHandler(BaseCallbackHandler):
    """Records llm_* and tool_invocations_total from LangChain callbacks (one per run)."""

    run_inline = True  # a few counter updates: no need for a thread hop per event
    raise_error = False

    @property
    def ignore_chain(self) -> bool:
        """Graph nodes and runnables (two events each, a dozen per run) aren't counted."""
        return True

    def __init__(self) -> None:
        self._llm: dict[UUID, tuple[str, float]] = {}
        self._first_token_seen: set[UUID] = set()
        self._tools: dict[UUID, str] = {}

    def _start_llm(self, run_id: UUID, model: str) -> None:
        self._llm[run_id] = (model, time.perf_counter())
        # Create the error series at 0 so the error ratio has data before the first failure.
        LLM_REQUESTS.labels(model=model, status="error")

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Remember the model and start time of a chat model call."""
        self._start_llm(run_id, _model_name(serialized, metadata, kwargs))

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Remember the model and start time of a completion model call."""
        self._start_llm(run_id, _model_name(serialized, metadata, kwargs))

    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: GenerationChunk | ChatGenerationChunk | None = None,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        """Observe the time to the first streamed token."""
        started = self._llm.get(run_id)
        if started is None or run_id in self._first_token_seen:
            return
        self._first_token_seen.add(run_id)
        model, start = started
        LLM_TTFT.labels(model=model).observe(time.perf_counter() - start)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Count a successful call with its latency, tokens and cost."""
        started = self._llm.pop(run_id, None)
        self._first_token_seen.discard(run_id)
        if started is None:
            return
        model, start = started
        LLM_DURATION.labels(model=model).observe(time.perf_counter() - start)
        LLM_REQUESTS.labels(model=model, status="success").inc()
        prompt, completion = _usage(response)
        LLM_TOKENS.labels(model=model, type="prompt").inc(prompt)
        LLM_TOKENS.labels(model=model, type="completion").inc(completion)
        cost = llm_cost(model, prompt, completion)
        if cost is None:  # unknown, not free: counted apart instead of adding $0
            LLM_UNPRICED.labels(model=model).inc()
        else:
            LLM_COST.labels(model=model).inc(cost)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Count a failed call by error type."""
        started = self._llm.pop(run_id, None)
        self._first_token_seen.discard(run_id)
        if started is None:
            return
        model, start = started
        LLM_DURATION.labels(model=model).observe(time.perf_counter() - start)
        LLM_REQUESTS.labels(model=model, status="error").inc()
        LLM_ERRORS.labels(model=model, error_type=type(error).__name__).inc()

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        """Remember the tool's name."""
        name = kwargs.get("name") or (serialized or {}).get("name") or "unknown"
        self._tools[run_id] = str(name)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Count a tool call and whether it failed."""
        name = self._tools.pop(run_id, None) or str(kwargs.get("name") or "unknown")
        status = "error" if _tool_failed(output) else "success"
        TOOL_INVOCATIONS.labels(tool=name, status=status).inc()

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Count a tool call that raised."""
        name = self._tools.pop(run_id, None) or str(kwargs.get("name") or "unknown")
        TOOL_INVOCATIONS.labels(tool=name, status="error").inc()


def metrics_callbacks() -> list[BaseCallbackHandler]:
    """LangChain callbacks that record LLM and tool metrics for one run."""
    return [MetricsCallbackHandler()] if settings.METRICS_ENABLED else []


# --- exposition ---

router = APIRouter(tags=["metrics"])


def render_metrics() -> bytes:
    """The exposition text: every worker's values in multiprocess mode, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def scrape_authorized(authorization: str) -> bool:
    """Whether an Authorization header may scrape: always without METRICS_BEARER_TOKEN."""
    expected = settings.METRICS_BEARER_TOKEN
    return not expected or secrets.compare_digest(
        authorization.encode(), f"Bearer {expected}".encode()
    )


@router.get("/metrics", include_in_schema=False)
def metrics_endpoint(request: Request) -> Response:
    """Prometheus scrape endpoint (bearer token required when METRICS_BEARER_TOKEN is set)."""
    # A plain `def`: reading the multiprocess files is blocking I/O, so it runs in the threadpool.
    if not scrape_authorized(request.headers.get("authorization", "")):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid or missing metrics token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Response(content=render_metrics(), media_type=CONTENT_TYPE_LATEST)
