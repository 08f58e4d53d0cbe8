"""Circuit breakers, one per name (a model): closed → open → half-open → closed.

Closed: calls go through; the breaker opens after `failure_threshold` failures in a row, or
when at least `min_calls` calls of the current window failed at `failure_rate` or more.
Open: calls are refused at once until `cooldown_s` has passed. Half-open: one probe call goes
through (the others are refused); its success closes the breaker, its failure opens it again.

The state lives in Redis when a client is given (shared by every process, one Lua script per
step, Redis's clock), else in this process. When Redis can't be reached, each process falls
back on its own state until Redis answers again: a breaker never blocks a call on Redis.
"""

import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)
# After Redis failed to answer, breakers stay in this process for this long before trying
# Redis again, so a Redis that is down costs one socket timeout, not one per model call.
REDIS_RETRY_AFTER_S = 5.0


class BreakerState(IntEnum):
    """The gauge values of llm_breaker_state."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass(frozen=True)
class BreakerPolicy:
    """When a breaker opens and how long it stays open."""

    failure_threshold: int = 5
    failure_rate: float = 0.5
    min_calls: int = 20
    window_s: float = 60.0
    cooldown_s: float = 30.0
    # A probe whose result never comes back (its process died) frees the slot after this.
    probe_timeout_s: float = 120.0


@dataclass(frozen=True)
class Permit:
    """May the call go ahead, and is it the half-open probe?"""

    allowed: bool
    probe: bool
    state: BreakerState


@dataclass
class _Local:
    state: BreakerState = BreakerState.CLOSED
    opened_at: float = 0.0
    probe_at: float = 0.0
    consecutive: int = 0
    calls: int = 0
    failures: int = 0
    window_start: float = 0.0


@dataclass
class LocalBreakers:
    """Breakers kept in this process (the same rules as the Redis scripts)."""

    policy: BreakerPolicy
    _states: dict[str, _Local] = field(default_factory=dict)

    def permit(self, name: str, now: float | None = None) -> Permit:
        """Whether a call may go ahead now."""
        now = time.monotonic() if now is None else now
        b = self._states.setdefault(name, _Local(window_start=now))
        if b.state is BreakerState.OPEN and now - b.opened_at >= self.policy.cooldown_s:
            b.state, b.probe_at = BreakerState.HALF_OPEN, now
            return Permit(True, True, b.state)
        if b.state is BreakerState.HALF_OPEN and now - b.probe_at > self.policy.probe_timeout_s:
            b.probe_at = now
            return Permit(True, True, b.state)
        return Permit(b.state is BreakerState.CLOSED, False, b.state)

    def record(self, name: str, ok: bool, probe: bool, now: float | None = None) -> BreakerState:
        """Count a call's result; the state after it."""
        now = time.monotonic() if now is None else now
        p = self.policy
        b = self._states.setdefault(name, _Local(window_start=now))
        if probe:
            if ok:
                self._states[name] = _Local(window_start=now)
                return BreakerState.CLOSED
            b.state, b.opened_at = BreakerState.OPEN, now
            return b.state
        if b.state is not BreakerState.CLOSED:  # a call that started before it opened
            return b.state
        if now - b.window_start >= p.window_s:
            b.window_start, b.calls, b.failures = now, 0, 0
        b.calls += 1
        b.failures += 0 if ok else 1
        b.consecutive = 0 if ok else b.consecutive + 1
        if not ok and (
            b.consecutive >= p.failure_threshold
            or (b.calls >= p.min_calls and b.failures / b.calls >= p.failure_rate)
        ):
            b.state, b.opened_at = BreakerState.OPEN, now
        return b.state

    def state(self, name: str) -> BreakerState:
        """The state as last recorded (an open breaker past its cool-down still reads open)."""
        local = self._states.get(name)
        return local.state if local else BreakerState.CLOSED


# KEYS[1]: the breaker's hash. ARGV: cooldown, probe timeout. Returns {allowed, probe, state}.
_PERMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local k = KEYS[1]
local state = tonumber(redis.call('HGET', k, 'state') or '0')
if state == 2 then
  if now - tonumber(redis.call('HGET', k, 'opened_at') or '0') < tonumber(ARGV[1]) then
    return {0, 0, 2}
  end
  redis.call('HSET', k, 'state', 1, 'probe_at', now)
  return {1, 1, 1}
end
if state == 1 then
  if now - tonumber(redis.call('HGET', k, 'probe_at') or '0') > tonumber(ARGV[2]) then
    redis.call('HSET', k, 'probe_at', now)
    return {1, 1, 1}
  end
  return {0, 0, 1}
end
return {1, 0, 0}
"""

# ARGV: ok, probe, threshold, rate, min_calls, window, ttl. Returns the state after the call.
_RECORD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local k = KEYS[1]
local ok, probe = ARGV[1] == '1', ARGV[2] == '1'
redis.call('HSETNX', k, 'state', 0)
redis.call('EXPIRE', k, ARGV[7])
if probe then
  if ok then
    redis.call('DEL', k)
    return 0
  end
  redis.call('HSET', k, 'state', 2, 'opened_at', now)
  return 2
end
local state = tonumber(redis.call('HGET', k, 'state') or '0')
if state ~= 0 then return state end
if now - tonumber(redis.call('HGET', k, 'window_start') or '0') >= tonumber(ARGV[6]) then
  redis.call('HSET', k, 'window_start', now, 'calls', 0, 'failures', 0)
end
local calls = redis.call('HINCRBY', k, 'calls', 1)
local failures = tonumber(redis.call('HGET', k, 'failures') or '0')
local consecutive = 0
if ok then
  redis.call('HSET', k, 'consecutive', 0)
else
  failures = redis.call('HINCRBY', k, 'failures', 1)
  consecutive = redis.call('HINCRBY', k, 'consecutive', 1)
end
if (not ok) and (consecutive >= tonumber(ARGV[3]) or
    (calls >= tonumber(ARGV[5]) and failures / calls >= tonumber(ARGV[4]))) then
  redis.call('HSET', k, 'state', 2, 'opened_at', now)
  return 2
end
return 0
"""


class CircuitBreakers:
    """Breakers by name: in Redis when a client is given and answers, else in this process."""

    def __init__(
        self, policy: BreakerPolicy, redis: Redis | None = None, prefix: str = "llm-breaker"
    ) -> None:
        self.policy = policy
        self.redis = redis
        self.prefix = prefix
        self.local = LocalBreakers(policy)
        self._last: dict[str, BreakerState] = {}
        self._scripts: dict[str, Any] = {}
        self._redis_down_until = 0.0

    def _use_redis(self) -> bool:
        return self.redis is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: BaseException) -> None:
        self._redis_down_until = time.monotonic() + REDIS_RETRY_AFTER_S
        logger.warning("breaker.redis_unavailable", error_type=type(exc).__name__)

    def _script(self, source: str) -> Any:
        assert self.redis is not None
        if source not in self._scripts:
            self._scripts[source] = self.redis.register_script(source)
        return self._scripts[source]

    async def permit(self, name: str) -> Permit:
        """Whether a call to `name` may go ahead now."""
        if self._use_redis():
            try:
                allowed, probe, state = await self._script(_PERMIT)(
                    keys=[f"{self.prefix}:{name}"],
                    args=[self.policy.cooldown_s, self.policy.probe_timeout_s],
                )
                permit = Permit(bool(allowed), bool(probe), BreakerState(int(state)))
                self._last[name] = permit.state
                return permit
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        permit = self.local.permit(name)
        self._last[name] = permit.state
        return permit

    async def record(self, name: str, ok: bool, probe: bool = False) -> BreakerState:
        """Count the result of a permitted call; the breaker's state after it."""
        p = self.policy
        state: BreakerState | None = None
        if self._use_redis():
            try:
                ttl = int(max(p.window_s, p.cooldown_s, p.probe_timeout_s) * 10) + 1
                args = [int(ok), int(probe), p.failure_threshold, p.failure_rate]
                value = await self._script(_RECORD)(
                    keys=[f"{self.prefix}:{name}"], args=[*args, p.min_calls, p.window_s, ttl]
                )
                state = BreakerState(int(value))
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        if state is None:
            state = self.local.record(name, ok, probe)
        if state is not self._last.get(name):
            logger.info("breaker.state", breaker=name, state=state.name.lower())
        self._last[name] = state
        return state

    def reset_local(self) -> None:
        """Forget this process's state (Redis's is untouched): tests, and an operator's reset."""
        self.local = LocalBreakers(self.policy)
        self._last.clear()

    def last_state(self, name: str) -> BreakerState:
        """The state this process saw last (for the gauge)."""
        return self._last.get(name, BreakerState.CLOSED)
