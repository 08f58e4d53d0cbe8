"""One model call over the chain: each model in order, within the call's deadline, skipping
models whose circuit breaker is open, and noting which model answered and why it was not the
primary (the run's degraded mode).

A model that is not the last gets at most its own budget ((timeout + backoff) × attempts)
and an even share of what is left of the deadline, so its fallbacks still have time; the last
model gets what is left.
A streamed call falls back only before its first chunk: text a user has seen can't be taken
back, so a stream cut after that fails the call (and counts against the model's breaker).
"""

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from langchain_core.exceptions import ModelRefusalError, OutputParserException
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.runnables import Runnable, RunnableConfig, ensure_config
from pydantic import ValidationError

from app.core import metrics
from app.core.circuit_breaker import BreakerState, CircuitBreakers, Permit
from app.core.config import ModelSpec

logger = structlog.get_logger(__name__)

# Worst case of a provider client's own backoff between attempts, in seconds.
BACKOFF_ALLOWANCE_S = 2.0
# Reasons by precedence: the run's reason is the strongest one of its calls.
REASONS = ("breaker_open", "timeout", "fallback")


class ModelsUnavailableError(Exception):
    """No model of the chain could be tried: every breaker open, or no time left."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ModelLink:
    """One model of the chain and its spec (provider, name, budgets)."""

    spec: ModelSpec
    model: BaseChatModel


@dataclass
class ModelUse:
    """What the model calls of one run did: who answered, and why not the primary."""

    answered_by: str | None = None
    reasons: set[str] = field(default_factory=set)

    @property
    def mode(self) -> str:
        """`degraded` when any call of the run was answered by a fallback."""
        return "degraded" if self.reasons else "normal"

    @property
    def reason(self) -> str | None:
        """`breaker_open`, `timeout` or `fallback` (the strongest); None when normal."""
        return next((r for r in REASONS if r in self.reasons), None)


@dataclass
class CallScope:
    """Per-run inputs of a model call: the run's deadline (`time.monotonic()`), the log."""

    deadline: float | None = None
    use: ModelUse = field(default_factory=ModelUse)


def is_timeout(exc: BaseException) -> bool:
    """A model or network time-out (ours, httpx's or a provider client's), not a failure."""
    names = {type(e).__name__ for e in (exc, exc.__cause__) if e is not None}
    return isinstance(exc, TimeoutError | httpx.TimeoutException) or bool(
        names & {"APITimeoutError", "ReadTimeout", "ConnectTimeout", "TimeoutException"}
    )


def is_content_error(exc: BaseException) -> bool:
    """An answer that didn't parse: the provider is up (doesn't count against its breaker)."""
    return isinstance(exc, ValidationError | OutputParserException)


@dataclass
class _Attempt:
    """The state of one call going down the chain."""

    chain: "ModelChain"
    scope: CallScope
    end: float
    skipped_open: bool = False
    timed_out: bool = False
    last_error: BaseException | None = None

    def budget(self, index: int) -> float:
        """Seconds model `index` may take: the last model what is left of the deadline (its
        client's own timeouts apply per attempt), an earlier one at most its own budget and
        an even share of what is left, so the models after it still have time."""
        left = self.end - time.monotonic()
        later = len(self.chain.links) - index - 1
        if not later:
            return left
        spec = self.chain.links[index].spec
        attempts = (spec.max_retries or 0) + 1
        own = ((spec.timeout_seconds or 60.0) + BACKOFF_ALLOWANCE_S) * attempts
        return min(own, left / (later + 1))

    def failed(self, index: int, exc: BaseException) -> None:
        spec = self.chain.links[index].spec
        self.timed_out = self.timed_out or is_timeout(exc)
        self.last_error = exc
        logger.warning(
            "llm.chain_model_failed",
            model=spec.model,
            provider=spec.provider,
            error_type=type(exc).__name__,
        )

    def answered(self, index: int) -> None:
        links = self.chain.links
        self.scope.use.answered_by = links[index].spec.model
        if index == 0:
            return
        reason = (
            "breaker_open" if self.skipped_open else "timeout" if self.timed_out else "fallback"
        )
        self.scope.use.reasons.add(reason)
        metrics.fallback_used(links[0].spec.model, links[index].spec.model, reason)

    def give_up(self) -> BaseException:
        if self.last_error is not None:
            return self.last_error
        if self.skipped_open:
            return ModelsUnavailableError(
                "Every model's circuit breaker is open; try again shortly", "breaker_open"
            )
        return TimeoutError("No time left for a model call")


class ModelChain:
    """The chain's models, bound alike (tools or structured output), called in order."""

    def __init__(
        self,
        links: Sequence[ModelLink],
        runnables: Sequence[Runnable[LanguageModelInput, Any]],
        breakers: CircuitBreakers | None,
        deadline_s: float,
    ) -> None:
        self.links = tuple(links)
        self.runnables = tuple(runnables)
        self.breakers = breakers
        self.deadline_s = deadline_s

    def _start(self, scope: CallScope | None) -> _Attempt:
        scope = scope or CallScope()
        end = time.monotonic() + self.deadline_s
        if scope.deadline is not None:
            end = min(end, scope.deadline)
        return _Attempt(self, scope, end)

    async def _permit(self, index: int) -> Permit:
        if self.breakers is None:
            return Permit(True, False, BreakerState.CLOSED)
        spec = self.links[index].spec
        permit = await self.breakers.permit(spec.key)
        metrics.breaker_state(spec.provider, spec.model, permit.state)
        return permit

    async def _record(self, index: int, ok: bool, probe: bool) -> None:
        if self.breakers is None:
            return
        spec = self.links[index].spec
        state = await self.breakers.record(spec.key, ok, probe)
        metrics.breaker_state(spec.provider, spec.model, state)

    def _config(self, index: int, own: RunnableConfig | None = None) -> RunnableConfig:
        """The caller's run config (callbacks, trace metadata; `own` merged over the one the
        call runs in) plus where the call went."""
        config = ensure_config(own)
        spec = self.links[index].spec
        metadata = {**(config.get("metadata") or {}), "llm_chain_model": spec.key}
        if index > 0:
            metadata["llm_fallback_from"] = self.links[0].spec.key
        return {**config, "metadata": metadata}

    async def ainvoke(
        self,
        messages: Sequence[Any],
        scope: CallScope | None = None,
        config: RunnableConfig | None = None,
    ) -> Any:
        """The first answer down the chain; raises the last failure when none answered.
        `config` is for calls made outside a graph run (their own callbacks and run name)."""
        attempt = self._start(scope)
        async for index, runnable, permit, budget in self._links(attempt):
            try:
                async with asyncio.timeout(budget):
                    answer = await runnable.ainvoke(list(messages), self._config(index, config))
            except ModelRefusalError:
                await self._record(index, True, permit.probe)
                raise
            except Exception as exc:
                await self._record(index, is_content_error(exc), permit.probe)
                attempt.failed(index, exc)
                continue
            await self._record(index, True, permit.probe)
            attempt.answered(index)
            return answer
        raise attempt.give_up()

    async def astream(
        self, messages: Sequence[Any], scope: CallScope | None = None
    ) -> AsyncIterator[Any]:
        """The first model's stream that starts; falls back only before its first chunk."""
        attempt = self._start(scope)
        async for index, runnable, permit, budget in self._links(attempt):
            started = False
            stream = runnable.astream(list(messages), self._config(index))
            try:
                async with asyncio.timeout(budget):
                    first = await anext(stream)
                started = True
                attempt.answered(index)
                yield first
                while True:
                    async with asyncio.timeout_at(_loop_deadline(attempt.end)):
                        try:
                            chunk = await anext(stream)
                        except StopAsyncIteration:
                            break
                    yield chunk
            except StopAsyncIteration:  # an empty answer
                attempt.answered(index)
            except Exception as exc:
                # A stream that broke after its first chunk counts against the model too, but
                # can't fall back: its text has reached the user.
                await self._record(index, is_content_error(exc), permit.probe)
                if started:
                    raise
                attempt.failed(index, exc)
                continue
            finally:
                await stream.aclose()  # type: ignore[attr-defined]
            await self._record(index, True, permit.probe)
            return
        raise attempt.give_up()

    async def _links(
        self, attempt: _Attempt
    ) -> AsyncIterator[tuple[int, Runnable[LanguageModelInput, Any], Permit, float]]:
        """The models to try in order, each with its breaker's permit and its time budget:
        open breakers are skipped, and the walk ends when the call's time is used up."""
        for index, runnable in enumerate(self.runnables):
            permit = await self._permit(index)
            if not permit.allowed:
                attempt.skipped_open = True
                continue
            budget = attempt.budget(index)
            if budget <= 0:
                await self._release(index, permit)
                return
            yield index, runnable, permit, budget

    async def _release(self, index: int, permit: Permit) -> None:
        """A probe permit that won't be used: put the breaker back to open."""
        if permit.probe:
            await self._record(index, False, True)


def _loop_deadline(end: float) -> float:
    """A `time.monotonic()` deadline on the event loop's clock."""
    loop = asyncio.get_running_loop()
    return loop.time() + (end - time.monotonic())
