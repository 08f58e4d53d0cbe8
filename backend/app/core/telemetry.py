"""Langfuse tracing (SDK 5, OpenTelemetry-based) for agent runs, plus LangSmith pass-through.

Compatible servers: Langfuse Cloud or self-hosted Langfuse >= v4.59 (SDK 5.x; a v3 server
needs SDK 4.x). Spans leave the process from a background thread through a bounded queue
(OpenTelemetry's BatchSpanProcessor, `OTEL_BSP_MAX_QUEUE_SIZE`, 2048 spans by default; the
oldest are dropped when full) with a short HTTP timeout, so a slow or unreachable Langfuse
never blocks or fails a request.

With TELEMETRY_MASK_PII (default on in staging/production) every observation's input, output and
metadata pass through `app.core.pii.langfuse_mask` before they leave the process, and so do
error texts (a failed tool's message becomes the observation's status message, which the SDK's
`mask` hook does not cover).
"""

import asyncio
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage
from langfuse import Langfuse
from langfuse.langchain import CallbackHandler
from langgraph.errors import GraphBubbleUp
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from app.core.config import settings
from app.core.pii import langfuse_mask, mask_text, mask_value

TRACE_NAME = "agent_run"
DEFAULT_BASE_URL = "https://cloud.langfuse.com"

logger = structlog.get_logger(__name__)


@dataclass
class RunTrace:
    """What the agent service needs to trace one run."""

    trace_id: str | None
    trace_url: str | None
    callbacks: list[BaseCallbackHandler] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Config:
    public_key: str
    secret_key: str
    base_url: str
    sample_rate: float
    timeout: int
    flush_interval: float
    environment: str
    mask_pii: bool


@dataclass
class _State:
    config: _Config | None = None
    client: Langfuse | None = None
    provider: TracerProvider | None = None


_state = _State()
_lock = threading.Lock()


def langfuse_base_url() -> str:
    """LANGFUSE_BASE_URL, else the legacy LANGFUSE_HOST, else Langfuse Cloud."""
    url = settings.LANGFUSE_BASE_URL or settings.LANGFUSE_HOST or DEFAULT_BASE_URL
    return url.rstrip("/")


def tracing_enabled() -> bool:
    """True when Langfuse is enabled and both keys are configured."""
    return bool(
        settings.LANGFUSE_ENABLED and settings.LANGFUSE_PUBLIC_KEY and settings.LANGFUSE_SECRET_KEY
    )


def _current_config() -> _Config | None:
    if not tracing_enabled():
        return None
    return _Config(
        public_key=str(settings.LANGFUSE_PUBLIC_KEY),
        secret_key=str(settings.LANGFUSE_SECRET_KEY),
        base_url=langfuse_base_url(),
        sample_rate=settings.LANGFUSE_SAMPLE_RATE,
        timeout=settings.LANGFUSE_TIMEOUT_SECONDS,
        flush_interval=settings.LANGFUSE_FLUSH_INTERVAL_SECONDS,
        # Langfuse environments must be lowercase and must not start with "langfuse".
        environment=settings.APP_ENV,
        mask_pii=settings.mask_pii,
    )


def _shutdown_in_background(
    client: Langfuse, provider: TracerProvider | None, on_done: Callable[[], None] | None = None
) -> None:
    """Flush and stop a client on a daemon thread; callers decide how long to wait."""

    def run() -> None:
        try:
            client.shutdown()
            if provider is not None:
                provider.shutdown()
        except Exception:
            logger.warning("langfuse.shutdown_failed", exc_info=True)
        finally:
            if on_done is not None:
                on_done()

    # A daemon thread, not the default executor: an unreachable Langfuse must not hold the
    # process open at exit.
    threading.Thread(target=run, name="langfuse-shutdown", daemon=True).start()


def _detach_locked() -> tuple[Langfuse | None, TracerProvider | None]:
    client, provider = _state.client, _state.provider
    _state.client = _state.provider = _state.config = None
    # The SDK keeps one resource manager (exporter, queue) per public key for the life of the
    # process and has no public way to drop one: a new client for a key that was shut down here
    # would reuse its stopped exporter. Settings don't change in a running app; the tests give
    # every reconfiguration its own key.
    return client, provider


def get_langfuse() -> Langfuse | None:
    """The process's Langfuse client, created on first use; None when tracing is off."""
    config = _current_config()
    with _lock:
        if _state.config == config and (config is None or _state.client is not None):
            return _state.client
        old_client, old_provider = _detach_locked()
        if config is not None:
            # Our own provider (not the global one): Langfuse spans stay out of any other
            # OpenTelemetry setup, and the sampler is the one `start_run_trace` reproduces.
            provider = TracerProvider(sampler=_sampler(config.sample_rate))
            _state.client = Langfuse(
                public_key=config.public_key,
                secret_key=config.secret_key,
                base_url=config.base_url,
                timeout=config.timeout,
                flush_interval=config.flush_interval,
                sample_rate=config.sample_rate,
                environment=config.environment,
                tracer_provider=provider,
                mask=langfuse_mask if config.mask_pii else None,
            )
            _state.provider = provider
            _state.config = config
            logger.info(
                "langfuse.enabled", base_url=config.base_url, sample_rate=config.sample_rate
            )
    if old_client is not None:
        _shutdown_in_background(old_client, old_provider)
    return _state.client


class MaskedError(Exception):
    """An error whose text has been masked for telemetry."""


def _masked(error: BaseException) -> BaseException:
    # Interrupts and other LangGraph control flow keep their type: the handler logs them
    # as normal events, not errors.
    return error if isinstance(error, GraphBubbleUp) else MaskedError(mask_text(str(error)))


class MaskingCallbackHandler(CallbackHandler):
    """Langfuse's LangChain handler with error texts masked like inputs and outputs."""

    def on_chain_error(self, error: BaseException, **kwargs: Any) -> Any:
        return super().on_chain_error(_masked(error), **kwargs)

    def on_tool_error(self, error: BaseException, **kwargs: Any) -> Any:
        return super().on_tool_error(_masked(error), **kwargs)

    def on_tool_end(self, output: Any, **kwargs: Any) -> Any:
        # A failed tool's ToolMessage content becomes the status message as well as the output.
        if isinstance(output, ToolMessage) and output.status == "error":
            output = output.model_copy(update={"content": mask_value(output.content)})
        return super().on_tool_end(output, **kwargs)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> Any:
        return super().on_llm_error(_masked(error), **kwargs)

    def on_retriever_error(self, error: BaseException, **kwargs: Any) -> Any:
        return super().on_retriever_error(_masked(error), **kwargs)


def _sampler(rate: float) -> TraceIdRatioBased | None:
    return TraceIdRatioBased(rate) if rate < 1.0 else None


def trace_id_for_run(run_id: uuid.UUID) -> str:
    """The run's trace id: deterministic, so it is known before the run starts."""
    return str(Langfuse.create_trace_id(seed=str(run_id)))


def is_sampled(trace_id: str, rate: float) -> bool:
    """The decision the tracer's ratio sampler takes for this trace id."""
    sampler = _sampler(rate)
    if sampler is None:
        return True
    result = sampler.should_sample(None, int(trace_id, 16), TRACE_NAME)
    return bool(result.decision.is_sampled())  # type: ignore[no-untyped-call]


def trace_url_for(trace_id: str | None) -> str | None:
    """A link to the trace in the Langfuse UI, without a network call; None without a trace.

    With LANGFUSE_PROJECT_ID the link is the project's trace page, otherwise Langfuse's
    `/trace/{id}` page, which redirects to the project that owns the trace.
    """
    if not trace_id or not tracing_enabled():
        return None
    base = (settings.LANGFUSE_PUBLIC_URL or langfuse_base_url()).rstrip("/")
    if settings.LANGFUSE_PROJECT_ID:
        return f"{base}/project/{settings.LANGFUSE_PROJECT_ID}/traces/{trace_id}"
    return f"{base}/trace/{trace_id}"


def run_trace_id(run_id: uuid.UUID) -> str | None:
    """The trace id the run will have, or None when it won't be traced (off or sampled out)."""
    try:
        client = get_langfuse()
    except Exception:
        return None
    trace_id = trace_id_for_run(run_id)
    if client is None or not is_sampled(trace_id, settings.LANGFUSE_SAMPLE_RATE):
        return None
    return trace_id


def _langfuse_handler(trace_id: str) -> CallbackHandler:
    handler_class = MaskingCallbackHandler if settings.mask_pii else CallbackHandler
    handler = handler_class(
        public_key=settings.LANGFUSE_PUBLIC_KEY, trace_context={"trace_id": trace_id}
    )
    # Its callbacks only start and end OpenTelemetry spans (export runs in the SDK's own
    # thread), so run them inline instead of one thread-pool hop per LangChain event.
    handler.run_inline = True
    return handler


def start_run_trace(
    *,
    run_id: uuid.UUID,
    user_id: uuid.UUID,
    thread_id: uuid.UUID,
    tags: list[str],
    metadata: dict[str, Any],
) -> RunTrace:
    """Fix the run's trace id up front and build the Langfuse callback and run metadata.

    Put `callbacks` and `metadata` into the LangGraph run config. Never raises: tracing
    problems are logged and the run goes on untraced.
    """
    run_metadata: dict[str, Any] = {
        **metadata,
        "user_id": str(user_id),
        "app_env": settings.APP_ENV,
        "run_id": str(run_id),
        "thread_id": str(thread_id),
        "langfuse_user_id": str(user_id),
        "langfuse_session_id": str(thread_id),
        "langfuse_tags": list(tags),
        "langfuse_trace_name": TRACE_NAME,
    }
    try:
        client = get_langfuse()
        trace_id = trace_id_for_run(run_id)
        if client is None or not is_sampled(trace_id, settings.LANGFUSE_SAMPLE_RATE):
            return RunTrace(trace_id=None, trace_url=None, metadata=run_metadata)
        handler = _langfuse_handler(trace_id)
    except Exception:
        logger.warning("langfuse.trace_setup_failed", run_id=str(run_id), exc_info=True)
        return RunTrace(trace_id=None, trace_url=None, metadata=run_metadata)
    return RunTrace(
        trace_id=trace_id,
        trace_url=trace_url_for(trace_id),
        callbacks=[handler],
        metadata=run_metadata,
    )


def side_call_callbacks(trace_id: str | None) -> list[BaseCallbackHandler]:
    """The Langfuse callback that puts a model call made after a run (its thread's title)
    into that run's trace; none when the run wasn't traced. Never raises."""
    if trace_id is None:
        return []
    try:
        if get_langfuse() is None:
            return []
        return [_langfuse_handler(trace_id)]
    except Exception:
        logger.warning("langfuse.trace_setup_failed", trace_id=trace_id, exc_info=True)
        return []


TRACE_DELETE_BATCH = 100


async def delete_traces(trace_ids: list[str]) -> list[str]:
    """Delete traces (with their observations and scores) through Langfuse's public API,
    `DELETE /api/public/traces`, in batches; the ids it did not accept (logged), e.g. because
    Langfuse was unreachable. Spans still buffered in this process are sent first, so they
    can't recreate a trace after its deletion. Langfuse deletes asynchronously on its side."""
    client = get_langfuse() if trace_ids else None
    if client is None:
        return list(trace_ids) if not tracing_enabled() else []
    await asyncio.to_thread(client.flush)
    failed: list[str] = []
    for start in range(0, len(trace_ids), TRACE_DELETE_BATCH):
        batch = trace_ids[start : start + TRACE_DELETE_BATCH]
        try:
            await client.async_api.trace.delete_multiple(
                trace_ids=batch,
                request_options={"timeout_in_seconds": settings.LANGFUSE_TIMEOUT_SECONDS},
            )
        except Exception as exc:
            logger.warning("langfuse.delete_traces_failed", count=len(batch), error=repr(exc))
            failed += batch
    return failed


def record_run_outcome(trace_id: str | None, outcome: dict[str, Any]) -> None:
    """Add a `run_outcome` event to the run's trace: status, mode (normal/degraded), the
    reason and the model that answered. Never raises: tracing problems are only logged."""
    if trace_id is None:
        return
    try:
        client = get_langfuse()
        if client is not None:
            client.create_event(
                trace_context={"trace_id": trace_id}, name="run_outcome", metadata=outcome
            )
    except Exception:
        logger.warning("langfuse.outcome_failed", trace_id=trace_id, exc_info=True)


def flush_telemetry() -> None:
    """Send buffered spans now (blocking; bounded by the exporter timeout). For tests and CLIs."""
    client = _state.client
    if client is not None:
        client.flush()


async def shutdown_telemetry() -> None:
    """Flush and stop the client at shutdown, waiting at most LANGFUSE_SHUTDOWN_TIMEOUT_SECONDS."""
    with _lock:
        client, provider = _detach_locked()
    if client is None:
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def finish() -> None:
        if not done.done():
            done.set_result(None)

    def notify() -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(finish)

    _shutdown_in_background(client, provider, notify)
    timeout = settings.LANGFUSE_SHUTDOWN_TIMEOUT_SECONDS
    try:
        await asyncio.wait_for(done, timeout)
    except TimeoutError:
        logger.warning("langfuse.shutdown_timeout", timeout_s=timeout)


def init_telemetry() -> None:
    """Start-up: pass LangSmith settings on and create the Langfuse client (no network call),
    so the first traced run doesn't pay for building it."""
    configure_langsmith()
    get_langfuse()


def configure_langsmith() -> None:
    """Export the LANGCHAIN_* settings so LangChain's own LangSmith tracer sees them.

    Settings may come from `.env` files that LangChain never reads; nothing is set when
    LANGCHAIN_TRACING_V2 is off.
    """
    if not settings.LANGCHAIN_TRACING_V2:
        return
    os.environ["LANGCHAIN_TRACING_V2"] = "true"
    for name in ("LANGCHAIN_API_KEY", "LANGCHAIN_PROJECT", "LANGCHAIN_ENDPOINT"):
        value = getattr(settings, name)
        if value:
            os.environ[name] = str(value)
