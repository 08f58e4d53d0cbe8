"""Per-user agent budgets, checked before a run starts: daily tokens and concurrent runs.

Both are read from the run log (`agent_run` rows) rather than a Redis or in-memory counter: the
log is the one record every worker and replica already shares, it works without Redis, it
survives restarts, and a crashed worker can't leak a counter — a `running` row whose lease
lapsed no longer counts. `insert_within_budgets` stores a run only if the budgets allow it, in
one `INSERT … SELECT … WHERE` statement. On PostgreSQL a per-user advisory lock taken by the
statement before it, held until the caller commits, makes concurrent starts by one user queue
behind each other; the insert's counts then see every run committed before the lock was granted
(under READ COMMITTED a statement sees what was committed when it began, so the lock can't be
taken inside the insert itself). Tokens are recorded when a run finishes, so runs still in
flight aren't counted against the daily budget; the concurrency cap bounds that overshoot.
"""

import math
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import settings
from app.core.metrics import record_rate_limit_rejection
from app.crud import agent_run as crud_run
from app.crud import budget as crud_budget
from app.models import AgentRun

BudgetName = Literal["daily_tokens", "concurrent_runs"]
CONCURRENT_RETRY_AFTER_S = 5


class BudgetExceededError(Exception):
    """A budget refused the run (429): which one, when it resets and how long to wait."""

    code = "budget_exceeded"

    def __init__(
        self, budget: BudgetName, message: str, retry_after_s: int, resets_at: datetime | None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.budget = budget
        self.retry_after_s = max(1, retry_after_s)
        self.resets_at = resets_at

    @property
    def headers(self) -> dict[str, str]:
        """What the answer tells the client about waiting."""
        return {"Retry-After": str(self.retry_after_s)}


def next_utc_midnight(now: datetime) -> datetime:
    """The start of the next UTC day."""
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), tzinfo=UTC)


async def tokens_used_today(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    """Total tokens of the user's runs started since the last UTC midnight."""
    day_start = next_utc_midnight(now) - timedelta(days=1)
    return await crud_budget.tokens_since(session=session, user_id=user_id, since=day_start)


async def running_runs(session: AsyncSession, user_id: uuid.UUID) -> int:
    """The user's queued runs and running runs whose worker still holds their lease.

    A run whose worker died stops counting the moment its lease lapses, before the sweep
    even marks it `interrupted`.
    """
    return await crud_budget.active_runs(session=session, user_id=user_id)


async def check_agent_budgets(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> None:
    """Raise BudgetExceededError (429) when the user may not start another run now."""
    now = now or datetime.now(UTC)
    if settings.AGENT_DAILY_TOKEN_BUDGET <= 0 and settings.AGENT_MAX_CONCURRENT_RUNS_PER_USER <= 0:
        return  # both budgets off: nothing to count, no lock to take
    await crud_budget.lock_user(session=session, user_id=user_id)
    if settings.AGENT_DAILY_TOKEN_BUDGET > 0:
        used = await tokens_used_today(session, user_id, now)
        if used >= settings.AGENT_DAILY_TOKEN_BUDGET:
            resets_at = next_utc_midnight(now)
            record_rate_limit_rejection("budget", "daily_tokens")
            raise BudgetExceededError(
                "daily_tokens",
                f"Daily token budget exhausted: {used} of {settings.AGENT_DAILY_TOKEN_BUDGET} "
                f"tokens used today. It resets at {resets_at:%Y-%m-%d %H:%M} UTC.",
                math.ceil((resets_at - now).total_seconds()),
                resets_at,
            )
    cap = settings.AGENT_MAX_CONCURRENT_RUNS_PER_USER
    if cap > 0 and (running := await running_runs(session, user_id)) >= cap:
        record_rate_limit_rejection("budget", "concurrent_runs")
        raise BudgetExceededError(
            "concurrent_runs",
            f"Concurrent run limit reached: {running} of {cap} runs are still running. "
            "It frees up as soon as one of them finishes or is cancelled.",
            CONCURRENT_RETRY_AFTER_S,
            None,
        )


async def insert_within_budgets(
    session: AsyncSession, run: AgentRun, *, now: datetime | None = None
) -> None:
    """Store a new run when the user's budgets allow another (BudgetExceededError, 429, if not);
    the caller commits."""
    now = now or datetime.now(UTC)
    cap = settings.AGENT_MAX_CONCURRENT_RUNS_PER_USER
    if cap > 0:
        await crud_budget.lock_user(session=session, user_id=run.user_id)
    conditions = crud_budget.within_budgets(
        user_id=run.user_id,
        lease_now=crud_run.lease_clock(session),
        since=next_utc_midnight(now) - timedelta(days=1),
        max_tokens=settings.AGENT_DAILY_TOKEN_BUDGET,
        max_active=cap,
    )
    if await crud_run.insert_run(session=session, run=run, conditions=conditions):
        return
    await check_agent_budgets(session, run.user_id, now=now)  # raises, saying which budget
    raise BudgetExceededError(  # a lease lapsed between the two reads: ask for a retry
        "concurrent_runs", "Concurrent run limit reached.", CONCURRENT_RETRY_AFTER_S, None
    )
